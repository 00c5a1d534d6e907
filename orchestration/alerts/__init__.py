"""Session alerts sent to a webhook (webhook.py), from the store of the target that built them (stores.py)."""
