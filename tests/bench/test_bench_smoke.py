"""The benchmarks still run end to end (a tiny size; timings are printed, never asserted)."""

import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import PROJECT_DIR


def run_smoke(script: str, workdir: Path, timeout: int) -> str:
    """A benchmark script's --smoke run into workdir, which must succeed; its output."""
    result = subprocess.run([sys.executable, f"bench/{script}", "--smoke", "--workdir", str(workdir)],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_incremental_cost_benchmark_smoke(tmp_path):
    output = run_smoke("incremental_cost.py", tmp_path / "bench", timeout=600)
    assert "incremental" in output and "full" in output


def test_harness_smoke(tmp_path):
    workdir = tmp_path / "harness"
    run_smoke("harness.py", workdir, timeout=900)
    results = (workdir / "RESULTS.md").read_text()
    assert "every method found" in results
    for step in ["dwell session models", "dwell whole warehouse", "dwell one more day", "dwell 1% late events",
                 "DuckDB script, same session tables", "DuckDB query", "pandas", "DuckDB scan (bound)",
                 "DuckDB sort (bound)", "DuckDB copy of the session tables (bound)", "dwell run, nothing new",
                 "dwell run, 100 new events"]:
        assert f"| {step} |" in results
    assert "dwell session models ÷ DuckDB script, same session tables" in results
    assert "dwell session models ÷ DuckDB query" in results
    assert "dwell session models ÷ DuckDB copy of the session tables (bound)" in results
    # What the session models write: the per-event and per-session tables, not the views they read.
    copied = next(line for line in results.splitlines() if line.startswith("- DuckDB copy of the session tables"))
    assert "marts.fct_session_events" in copied and "marts.fct_sessions" in copied
    assert "stg_events" not in copied


def test_history_size_smoke(tmp_path):
    workdir = tmp_path / "history"
    run_smoke("history_size.py", workdir, timeout=600)
    results = (workdir / "RESULTS.md").read_text()
    assert "## One more day on two sizes of history" in results
    assert results.count("| whole warehouse but the last day |") == 2
    assert results.count("| one more day (") == 2
    assert "| one more day on 4k of history ÷ on 2k |" in results


def test_memory_limit_reaches_dbt_runs(tmp_path):
    """DWELL_DUCKDB_MEMORY_LIMIT (what the harness's --memory-limit sets) is DuckDB's memory_limit in dbt runs."""
    env = {**os.environ, "DWELL_DUCKDB_MEMORY_LIMIT": "1GB", "DWELL_DUCKDB_PATH": str(tmp_path / "limit.duckdb")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "show", "--quiet", "--inline",
         "select current_setting('memory_limit') as memory_limit", "--target-path", str(tmp_path / "target")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "953.6 MiB" in result.stdout
