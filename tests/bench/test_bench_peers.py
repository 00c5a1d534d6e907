"""The benchmark's peers (bench/peers.py) sessionize exactly as dwell's rules say: random streams under random
rules, every rule boundary included, against the plain-Python reference (tests/reference_sessions.py)."""

import importlib.util
import random
import sys

import pandas as pd
import pytest

from helpers import random_events, random_rules
from orchestration.settings import PROJECT_DIR
from reference_sessions import sessionize

spec = importlib.util.spec_from_file_location("peers", PROJECT_DIR / "bench" / "peers.py")
peers = importlib.util.module_from_spec(spec)
sys.modules["peers"] = peers
spec.loader.exec_module(peers)

METHODS = ["duckdb", "pandas", "polars"]


def run_method(method, rules, events_path, output, spill):
    if method == "duckdb":
        peers.duckdb_query(rules, events_path, output, "1GB", spill)
    elif method == "pandas":
        peers.pandas_sessions(rules, events_path, output)
    else:
        peers.polars_sessions(rules, events_path, output)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [3, 14, 15, 92, 65])
def test_peer_sessions_equal_the_reference(tmp_path, method, seed):
    rng = random.Random(seed)
    reference_rules = random_rules(rng)
    events = random_events(rng, reference_rules, users=6)
    rules = peers.Rules(
        timeout_us=reference_rules.timeout_us,
        restart_events=tuple(sorted(reference_rules.restart_events)),
        end_events=tuple(sorted(reference_rules.end_events)),
        max_length_us=reference_rules.max_length_us,
        partition_by=reference_rules.partition_by,
    )
    counted = [event for event in events if event.counted]
    events_path = tmp_path / "events.parquet"
    pd.DataFrame({
        "event_id": [event.event_id for event in counted],
        "user_id": [event.user_id for event in counted],
        "workspace_id": [event.workspace_id for event in counted],
        "event_name": [event.event_name for event in counted],
        "occurred_at": pd.to_datetime([event.occurred_us for event in counted], unit="us").astype("datetime64[us]"),
    }).sample(frac=1, random_state=seed).to_parquet(events_path, index=False)
    output = tmp_path / "sessions.parquet"

    run_method(method, rules, events_path, output, tmp_path)

    found = pd.read_parquet(output).set_index("event_id")["first_event_id"].to_dict()
    expected = {event_id: session.event_ids[0]
                for session in sessionize(events, reference_rules, newest_us=0) for event_id in session.event_ids}
    assert found == expected
