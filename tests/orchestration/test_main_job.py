"""The README's main job end to end on a small sample: every dbt data test runs inside this build."""

from orchestration import cli
from orchestration.sample_data import generate_sample
from orchestration.summary import summarize


def test_main_job_builds_the_sample_reconciles_reuses_landed_events_and_docs_generate(warehouse, capsys, tmp_path):
    assert cli.main(["run", "--users", "25", "--days", "4", "--seed", "7"]) == 0
    printed = capsys.readouterr().out
    assert "Generated" in printed and "dwell warehouse summary" in printed and "median session" in printed

    expected = generate_sample(tmp_path / "again", users=25, days=4, seed=7)
    summary = summarize(warehouse.path)
    assert summary.rows_read == expected.events_written
    assert summary.events_quarantined == expected.malformed_rows
    assert summary.events_duplicate == expected.duplicate_rows
    assert summary.rows_read == summary.events_staged + summary.events_quarantined + summary.events_duplicate
    assert summary.sessions > 0 and summary.users > 0 and summary.median_session_seconds > 0

    # Every landed user id is in dim_users, including those missing from users.csv.
    missing = warehouse.query(
        "select count(*) as n from (select distinct user_id from staging.stg_events) e "
        "left join marts.dim_users d using (user_id) where d.user_id is null")
    assert missing.n[0] == 0
    assert warehouse.query("select count(*) as n from marts.dim_users where not is_in_users_file").n[0] > 0

    # Run again: the events already landed are used, not a new sample, and nothing changes.
    sessions = warehouse.query("select count(*) as n from marts.fct_sessions").n[0]
    assert cli.main(["run"]) == 0
    assert "Using the events already in" in capsys.readouterr().out
    assert warehouse.query("select count(*) as n from marts.fct_sessions").n[0] == sessions
    assert summarize(warehouse.path).rows_read == expected.events_written

    warehouse.dbt(["docs", "generate"])
    assert (warehouse.target() / "catalog.json").exists()
