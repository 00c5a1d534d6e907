"""Per-user sampling (README "Sampling"): the sampling_rate var keeps exactly the users a plain-Python md5 hash
selects, with all their events, accounts for the rest in the load audit, records the rate, and stays exact under
incremental loads."""

import hashlib
import shutil

import duckdb
import pandas as pd
import pytest

from helpers import Warehouse, event, land_sample_files, records
from orchestration.dbt_invoke import DbtCommandError
from orchestration.sample_data import generate_sample
from orchestration.summary import summarize

STAGING = "+stg_events"
# Tables that depend only on the files and the vars (the load audit and the id changes record the runs).
COMPARED = ["staging.stg_events", "staging.stg_events_duplicates", "staging.stg_users", "marts.fct_session_events",
            "marts.fct_sessions", "marts.fct_session_metrics", "marts.fct_page_views", "marts.fct_session_breaks",
            "marts.fct_user_activity_daily", "marts.dim_users", "marts.dim_workspaces", "marts.warehouse_sampling",
            "intermediate.int_category_sessions", "intermediate.int_session_idle_gaps"]
# What the tests read: the compared tables, the landed rows' outcomes, the quarantine and the load audit.
SELECTED = " ".join(f"+{table.split('.')[1]}" for table in COMPARED) + (
    " +stg_landed_events +stg_events_quarantined +rpt_load_audit")


def user_hash(user_id: str) -> float:
    """The sample's hash in [0, 1): the first 8 hex digits of md5(user_id) over 2^32."""
    return int(hashlib.md5(user_id.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def in_sample(user_id: str, rate: float) -> bool:
    return user_hash(user_id) < rate


def comparable(table):
    """The table's rows in order, without the load ids that differ from run to run."""
    return f"select * {'exclude (load_id, decided_in_load_id)' if table == 'staging.stg_events' else ''} from {table} order by all"


def frame(path, sql) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


def test_the_hash_spreads_users_evenly():
    users = [f"user_{number}" for number in range(100_000)]
    for rate in (0.01, 0.3, 0.75):
        assert abs(sum(in_sample(user, rate) for user in users) / len(users) - rate) < 0.005


def test_a_sample_keeps_exactly_the_hashed_users_with_all_their_events(warehouse, tmp_path):
    rate = 0.3
    generate_sample(warehouse.landing, users=150, days=4, seed=8)
    unsampled = Warehouse(landing=warehouse.landing, path=tmp_path / "rate-1.duckdb", targets=tmp_path)
    full = unsampled.path
    unsampled.build(select=SELECTED, data_tests=True)
    # Rate 1 adds nothing to the SQL: no hash, no sampled_out branch.
    compiled = (unsampled.target() / "compiled" / "dwell" / "models" / "staging" / "events"
                / "stg_landed_events.sql").read_text()
    assert "md5" not in compiled and "sampled_out" not in compiled
    warehouse.build(select=SELECTED, dbt_vars={"sampling_rate": rate})

    winners = warehouse.query("select event_id, user_id, load_status from staging.stg_landed_events "
                              "where load_status in ('staged', 'sampled_out')")
    users = set(winners.user_id)
    kept = {user for user in users if in_sample(user, rate)}
    assert 0 < len(kept) < len(users)
    assert abs(len(kept) / len(users) - rate) < 0.12
    # Every event of a kept user is staged, every event of another user sampled out.
    assert (winners.load_status == "staged").tolist() == [in_sample(user, rate) for user in winners.user_id]

    # The kept users' rows are exactly those of the unsampled build; duplicates and quarantine do not depend on it.
    for table in ["staging.stg_events", "marts.fct_session_events"]:
        sql = comparable(table)
        everything = frame(full, sql)
        expected = everything[everything.user_id.isin(kept)].reset_index(drop=True)
        pd.testing.assert_frame_equal(warehouse.query(sql), expected, obj=table)
    for table in ["staging.stg_events_duplicates", "staging.stg_events_quarantined"]:
        assert warehouse.records(f"select * from {table} order by all") == records(full, f"select * from {table} "
                                                                                         "order by all")
    users_file = pd.read_csv(warehouse.landing / "users.csv", dtype=str)
    assert set(warehouse.query("select user_id from staging.stg_users").user_id) == {
        user for user in users_file.user_id if in_sample(user, rate)}
    assert all(in_sample(user, rate) for user in warehouse.query("select user_id from marts.dim_users").user_id)

    audit = warehouse.records("select * from marts.rpt_load_audit")
    assert len(audit) == 1
    load = audit[0]
    assert load["rows_read"] == (load["events_staged"] + load["events_quarantined"] + load["events_duplicate"]
                                 + load["events_sampled_out"])
    assert load["events_sampled_out"] == (winners.load_status == "sampled_out").sum() > 0
    assert load["sampling_rate"] == rate
    summary = summarize(warehouse.path)
    assert summary.events_sampled_out == load["events_sampled_out"]
    assert summary.rows_read == (summary.events_staged + summary.events_quarantined + summary.events_duplicate
                                 + summary.events_sampled_out)
    assert "sampled out" in summary.render() and "sampled out" not in summarize(full).render()
    full_load = records(full, "select * from marts.rpt_load_audit")[0]
    assert full_load["events_sampled_out"] == 0 and full_load["sampling_rate"] == 1
    assert full_load["events_staged"] == load["events_staged"] + load["events_sampled_out"]

    assert warehouse.records("select * from marts.warehouse_sampling") == [{
        "sampling_rate": rate, "scale_factor": 1 / rate, "users_seen": len(users), "users_kept": len(kept),
        "events_seen": len(winners), "events_kept": int((winners.load_status == "staged").sum())}]
    assert records(full, "select * from marts.warehouse_sampling") == [{
        "sampling_rate": 1, "scale_factor": 1, "users_seen": len(users), "users_kept": len(users),
        "events_seen": len(winners), "events_kept": len(winners)}]


def test_a_larger_rate_keeps_a_superset_of_users(warehouse, tmp_path):
    generate_sample(warehouse.landing, users=80, days=2, seed=3)
    kept = {}
    for rate in (0.2, 0.6):
        Warehouse(landing=warehouse.landing, path=tmp_path / f"rate-{rate}.duckdb", targets=tmp_path).build(
            select=STAGING, dbt_vars={"sampling_rate": rate})
        kept[rate] = {row["user_id"] for row in records(tmp_path / f"rate-{rate}.duckdb",
                                                        "select distinct user_id from staging.stg_events")}
        seen = {row["user_id"] for row in records(
            tmp_path / f"rate-{rate}.duckdb",
            "select user_id from staging.stg_landed_events where load_status in ('staged', 'sampled_out')")}
        assert kept[rate] == {user for user in seen if in_sample(user, rate)}
    assert kept[0.2] < kept[0.6]


def test_the_portable_hash_equals_the_duckdb_one(warehouse, capfd):
    users = ["u1", "user_000042", "anon-7f3a", "ünïcode", "0"]
    values = ", ".join(f"('{user}')" for user in users)
    warehouse.dbt(["show", "--inline",
                   "select user_id, {{ default__dwell_user_hash('user_id') }} as portable, "
                   "{{ duckdb__dwell_user_hash('user_id') }} as duckdb "
                   f"from (values {values}) as ids(user_id) where portable <> duckdb", "--output", "json"])
    assert '"show": []' in capfd.readouterr().out.replace("\n", "").replace("  ", "")
    warehouse.dbt(["show", "--inline", "select {{ duckdb__dwell_user_hash(\"'u42'\") }} as h", "--output", "json"])
    assert str(int(hashlib.md5(b"u42").hexdigest()[:8], 16)) in capfd.readouterr().out


@pytest.mark.parametrize("rate", [0, -1, 1.5, "abc", "0.5; drop table x", True])
def test_a_bad_rate_stops_the_build_naming_it(warehouse, capfd, rate):
    warehouse.write_jsonl("events/one.jsonl", [event("a1", "2026-03-01T10:00:00Z", "u1")])
    with pytest.raises(DbtCommandError):
        warehouse.build(select=STAGING, dbt_vars={"sampling_rate": rate})
    assert "sampling_rate must be a number with 0 < rate <= 1" in capfd.readouterr().out


def test_incremental_loads_under_a_rate_equal_a_full_refresh(warehouse, tmp_path, assert_equal_to_a_full_refresh):
    rate = 0.5
    dbt_vars = {"sampling_rate": rate}
    kept_user, other_user = "y", "x"
    assert in_sample(kept_user, rate) and not in_sample(other_user, rate)
    sample = tmp_path / "sample"
    generate_sample(sample, users=12, days=6, seed=7)
    land_sample_files(sample, warehouse.landing, events=False, dimensions=True)
    files = sorted((sample / "events").rglob("*.*"))

    def load(name, rows, sample_files):
        for path in sample_files:
            target = warehouse.landing / path.relative_to(sample)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        warehouse.write_jsonl(f"events/hand/{name}.jsonl", rows)
        warehouse.build(select=SELECTED, dbt_vars=dbt_vars)

    load("first", [event("k1", "2026-10-02T10:00:00Z", kept_user), event("k2", "2026-10-02T10:40:00Z", kept_user),
                   event("o1", "2026-10-02T10:00:00Z", other_user), event("o2", "2026-10-02T10:10:00Z", other_user),
                   event("c1", "2026-10-02T10:20:00Z", kept_user), event("c2", "2026-10-02T10:30:00Z", other_user)],
         files[: len(files) // 2])
    assert warehouse.records("select count(*) as n from marts.fct_sessions where user_id = 'y'")[0]["n"] == 1
    # Earlier-received copies that move c1 to the other user (out of the sample, so y's session just loses it) and
    # c2 to the kept one; a late event of each user.
    load("second", [event("c1", "2026-10-02T10:20:00Z", other_user, received_at="2026-10-02T10:19:59Z"),
                    event("c2", "2026-10-02T10:30:00Z", kept_user, received_at="2026-10-02T10:29:59Z"),
                    event("k0", "2026-10-02T09:50:00Z", kept_user, received_at="2026-10-05T08:00:00Z"),
                    event("o0", "2026-10-02T09:50:00Z", other_user, received_at="2026-10-05T08:00:00Z")],
         files[len(files) // 2:])
    assert warehouse.records("select event_id from marts.fct_session_events where user_id = 'y' order by all") == [
        {"event_id": "c2"}, {"event_id": "k0"}, {"event_id": "k1"}, {"event_id": "k2"}]
    assert not warehouse.records("select * from marts.fct_session_events where user_id = 'x'")
    load("third", [event("k3", "2026-10-03T08:00:00Z", kept_user)], [])
    audit = warehouse.records("select * from marts.rpt_load_audit order by loaded_at")
    assert [load["sampling_rate"] for load in audit] == [rate] * 3
    assert all(load["rows_read"] == load["events_staged"] + load["events_quarantined"] + load["events_duplicate"]
               + load["events_sampled_out"] for load in audit)
    assert audit[1]["events_sampled_out"] > 0

    assert all(warehouse.records(comparable(table)) for table in COMPARED)
    assert_equal_to_a_full_refresh(COMPARED, dbt_vars, select=SELECTED, sql=comparable)

    # Another rate without a full refresh rebuilds the sample from history under it, never mixing two samples.
    warehouse.build(select=SELECTED, dbt_vars={"sampling_rate": 0.6}, data_tests=True)
    assert_equal_to_a_full_refresh(COMPARED, {"sampling_rate": 0.6}, select=SELECTED, sql=comparable)
