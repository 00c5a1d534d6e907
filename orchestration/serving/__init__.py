"""The serving copy of the marts for BI tools: a snapshot published whole after each run (snapshot.py), personal
data kept, hashed or dropped (pii.py), and `dwell serve`, the JSON API and web app that read it (web/)."""

from orchestration.errors import DwellError


class ServingError(DwellError):
    pass
