"""The serving copy for BI tools: published after each run, read without the warehouse's lock, only whole
snapshots visible to a reader that queries it all along, and PII hashed or dropped on request."""

import json
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from dagster import DagsterInstance

from helpers import day_after, land_sample_files
from orchestration import pipeline
from orchestration.serving import ServingError
from orchestration.serving.pii import PII_MODE_VARIABLE, PII_SALT_VARIABLE
from orchestration.serving.snapshot import publish
from orchestration.sample_data import generate_sample

# Queries the serving copy in a loop until told to stop, and writes every observation as a JSON line: the row
# count of every mart in one snapshot connection, then the row count of each Parquet file.
READER = textwrap.dedent("""
    import json, pathlib, sys
    import duckdb

    serving, log, stop = pathlib.Path(sys.argv[1]), open(sys.argv[2], "w"), pathlib.Path(sys.argv[3])
    while not stop.exists():
        try:
            with duckdb.connect(str(serving / "dwell.duckdb"), read_only=True) as con:
                tables = [row[0] for row in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
                counts = {table: con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
                          for table in tables}
            log.write(json.dumps({"snapshot": counts}) + "\\n")
            for path in sorted((serving / "parquet").glob("*.parquet")):
                rows = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchone()[0]
                log.write(json.dumps({"parquet": path.stem, "rows": rows}) + "\\n")
        except Exception as error:
            log.write(json.dumps({"error": repr(error)}) + "\\n")
        log.flush()
""")


def test_a_reader_sees_only_whole_published_snapshots_during_runs(warehouse, tmp_path):
    sample = tmp_path / "sample"
    generate_sample(sample, users=12, days=4, seed=11)
    dates = sorted({part.split("=", 1)[1] for path in sample.rglob("*.parquet") for part in path.parts
                    if part.startswith("received_date=")})
    serving_dir = tmp_path / "serving"

    land_sample_files(sample, warehouse.landing, dates[0], day_after(dates[0]), dimensions=True)
    warehouse.build()
    published = [publish(warehouse.path, serving_dir).row_counts]

    log, stop = tmp_path / "reader.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving_dir), str(log), str(stop)])
    try:
        for date in dates[1:]:
            land_sample_files(sample, warehouse.landing, date, day_after(date), dimensions=True)
            # The run writes the warehouse while the reader holds the serving copy open: neither waits.
            warehouse.build()
            published.append(publish(warehouse.path, serving_dir).row_counts)
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)

    observations = [json.loads(line) for line in log.read_text().splitlines()]
    assert [entry for entry in observations if "error" in entry] == []
    snapshots = [entry["snapshot"] for entry in observations if "snapshot" in entry]
    assert snapshots and all(snapshot in published for snapshot in snapshots)
    # The loop ran through publications, not only after the last one.
    assert len({json.dumps(snapshot, sort_keys=True) for snapshot in snapshots}) >= 2
    for entry in (entry for entry in observations if "parquet" in entry):
        assert entry["rows"] in {counts[entry["parquet"]] for counts in published}, entry
    assert published[-1]["fct_session_events"] > published[0]["fct_session_events"]

    # The last publication is the warehouse as the last run left it, mart by mart, and the manifest says so.
    manifest = json.loads((serving_dir / "manifest.json").read_text())
    assert {name: mart["rows"] for name, mart in manifest["marts"].items()} == published[-1]
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table, rows in published[-1].items():
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] == rows


def test_the_lifetime_job_publishes_and_pii_can_be_hashed_or_dropped(warehouse, tmp_path, monkeypatch):
    generate_sample(warehouse.landing, users=8, days=2, seed=5)
    with DagsterInstance.ephemeral() as instance:
        pipeline.materialize_all(instance)
    serving_dir = tmp_path / "serving"
    with duckdb.connect(str(serving_dir / "dwell.duckdb"), read_only=True) as con:
        kept = con.sql("select user_id, email, first_name, last_name, email_domain from marts.dim_users "
                       "order by user_id").fetchall()
        snapshot_marts = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        assert kept == con.sql("select user_id, email, first_name, last_name, email_domain from marts.dim_users "
                               "order by user_id").fetchall()
        warehouse_marts = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert snapshot_marts == warehouse_marts
    assert {path.stem for path in (serving_dir / "parquet").glob("*.parquet")} == warehouse_marts
    assert any(row[1] for row in kept)

    monkeypatch.setenv(PII_MODE_VARIABLE, "hash")
    monkeypatch.setenv(PII_SALT_VARIABLE, "pepper")
    publish(warehouse.path, serving_dir)
    hashed = duckdb.sql(f"select user_id, email, first_name, last_name, email_domain "
                        f"from read_parquet('{serving_dir / 'parquet' / 'dim_users.parquet'}') order by user_id").fetchall()
    for (user, email, first, last, domain), (_, *masked, masked_domain) in zip(kept, hashed):
        for value, digest in zip((email, first, last), masked):
            assert digest == (None if value is None else duckdb.sql("select sha256('pepper' || $v)",
                                                                     params={"v": value}).fetchone()[0])
        assert masked_domain == domain
    user_period_emails = duckdb.sql(
        f"select distinct email from read_parquet('{serving_dir / 'parquet' / 'rpt_user_period_activity.parquet'}') "
        f"where email is not null").fetchall()
    assert user_period_emails and {row[0] for row in user_period_emails} <= {row[1] for row in hashed}

    monkeypatch.setenv(PII_MODE_VARIABLE, "drop")
    publish(warehouse.path, serving_dir)
    with duckdb.connect(str(serving_dir / "dwell.duckdb"), read_only=True) as con:
        dropped = con.sql("select count(email), count(first_name), count(last_name), count(email_domain), count(*) "
                          "from marts.dim_users").fetchone()
        email_type = con.sql("select data_type from information_schema.columns "
                             "where table_name = 'dim_users' and column_name = 'email'").fetchone()[0]
    assert dropped[:3] == (0, 0, 0) and dropped[3] > 0 and dropped[4] == len(kept)
    assert email_type == "VARCHAR"


def test_bad_settings_and_unwritable_targets_fail_clearly_and_quoted_values_stay_data(sample_warehouse, tmp_path,
                                                                                     monkeypatch):
    warehouse = sample_warehouse
    monkeypatch.setenv(PII_MODE_VARIABLE, "'; drop table marts.dim_users; --")
    with pytest.raises(ServingError, match="DWELL_SERVING_PII must be one of keep, hash, drop"):
        publish(warehouse.path, tmp_path / "serving")
    monkeypatch.delenv(PII_MODE_VARIABLE)
    with pytest.raises(ServingError, match="No warehouse"):
        publish(tmp_path / "never-built.duckdb", tmp_path / "serving")

    serving_dir = tmp_path / "serving"
    first = publish(warehouse.path, serving_dir)

    # A path that cannot be a directory (root may write anywhere, so a file stands in the way instead).
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(ServingError, match="Cannot write the serving directory"):
        publish(warehouse.path, blocked / "serving")
    # A salt with quotes is data, never SQL.
    monkeypatch.setenv(PII_MODE_VARIABLE, "hash")
    monkeypatch.setenv(PII_SALT_VARIABLE, "x' || (select 1) || '")
    assert publish(warehouse.path, serving_dir).row_counts == first.row_counts
    with duckdb.connect(str(serving_dir / "dwell.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from marts.fct_sessions").fetchone()[0] == first.row_counts["fct_sessions"]

