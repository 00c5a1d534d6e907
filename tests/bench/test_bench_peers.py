"""The benchmark's peers (bench/peers.py) sessionize exactly as dwell's rules say: random streams under random
rules, every rule boundary included, against the plain-Python reference (tests/reference_sessions.py); and the
DuckDB script writes the very tables dwell's session models write."""

import importlib.util
import random
import sys

import pandas as pd
import pytest

from helpers import SESSION_MODELS, iso_us, random_events, random_rules, records, rules_vars
from orchestration.settings import PROJECT_DIR
from reference_sessions import sessionize

spec = importlib.util.spec_from_file_location("peers", PROJECT_DIR / "bench" / "peers.py")
peers = importlib.util.module_from_spec(spec)
sys.modules["peers"] = peers
spec.loader.exec_module(peers)

METHODS = ["duckdb", "pandas", "polars"]


def peer_rules(rules):
    """The reference's rules as the peers take them."""
    return peers.Rules(
        timeout_us=rules.timeout_us,
        restart_events=tuple(sorted(rules.restart_events)),
        end_events=tuple(sorted(rules.end_events)),
        max_length_us=rules.max_length_us,
        partition_by=rules.partition_by,
    )


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
    rules = peer_rules(reference_rules)
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


# A maximum length shorter than the sessions, by workspace; none, with a timeout that leaves sessions open; restart
# and end events with a maximum length cutting most sessions.
@pytest.mark.parametrize("seed", [1, 5, 14])
def test_session_tables_script_writes_the_session_models_tables(warehouse, tmp_path, seed):
    rng = random.Random(seed)
    rules = random_rules(rng)
    # Organizations and pages on some events, and the organization of some users, for the columns taken from them.
    warehouse.write_jsonl("events/stream.jsonl", [
        {"event_id": event.event_id, "user_id": event.user_id, "workspace_id": event.workspace_id,
         "event_name": event.event_name, "occurred_at": iso_us(event.occurred_us),
         "organization_id": rng.choice(["o1", "o2", None, None]), "page": rng.choice(["/a", "/b", None])}
        for event in random_events(rng, rules, users=8)])
    (warehouse.landing / "users.csv").write_text(
        "user_id,organization_id\n" + "".join(f"u{user},o{user}\n" for user in range(0, 8, 2)))
    warehouse.build(select=SESSION_MODELS, dbt_vars=rules_vars(rules))
    output = tmp_path / "script_session_tables.duckdb"

    peers.duckdb_session_tables(peer_rules(rules), warehouse.path, output, "1GB", tmp_path)

    for table in peers.SESSION_TABLES:
        # Names and types: the script declares none of the contract's not-null constraints, as users' CTAS don't.
        columns = f"select column_name, column_type from (describe {table})"
        assert records(output, columns) == warehouse.records(columns), table
        assert records(output, f"select * from {table} order by all") == warehouse.tables([table])[table], table
