"""The spark target, on a local pyspark session: dbt's date spines come out right through dwell's spark__dateadd.

dbt runs in a subprocess of its own, so the Spark JVM it starts ends with it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import PROJECT_DIR

SPINES = {
    "day": ("2026-02-27", "2026-03-02"),
    "week": ("2026-01-05", "2026-02-02"),
    "month": ("2026-01-01", "2026-04-01"),
    "quarter": ("2025-01-01", "2026-01-01"),
    "year": ("2023-01-01", "2026-01-01"),
}
EXPECTED = {
    "day": ["2026-02-27", "2026-02-28", "2026-03-01"],
    "week": ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"],
    "month": ["2026-01-01", "2026-02-01", "2026-03-01"],
    "quarter": ["2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01"],
    "year": ["2023-01-01", "2024-01-01", "2025-01-01"],
}
# Runs `dbt show` in-process in the child and prints its rows as JSON lines.
SHOW_ROWS = """
import json, sys
from dbt.cli.main import dbtRunner
result = dbtRunner().invoke(sys.argv[1:])
if not result.success:
    sys.exit(f"dbt show failed: {result.exception}")
table = result.result.results[0].agate_table
for row in table.rows:
    print("ROW " + json.dumps([str(value) for value in row]))
"""


def spark_rows(sql: str, tmp_path: Path) -> list[list[str]]:
    environment = {"SPARK_LOCAL_IP": "127.0.0.1", "DWELL_SPARK_DIR": str(tmp_path / "spark"),
                   "PYSPARK_PYTHON": sys.executable}
    completed = subprocess.run(
        [sys.executable, "-c", SHOW_ROWS, "show", "--quiet", "--target", "spark", "--target-path",
         str(tmp_path / "target"), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--inline", sql, "--limit", "1000"],
        capture_output=True, text=True, env={**os.environ, **environment}, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:] + completed.stdout[-4000:]
    return [json.loads(line[4:]) for line in completed.stdout.splitlines() if line.startswith("ROW ")]


def test_date_spines_of_every_grain_on_spark(tmp_path):
    spines = " union all ".join(
        f"select '{grain}' as grain, cast(date_{grain} as date) as day from ("
        f"{{{{ dbt.date_spine('{grain}', \"cast('{start}' as date)\", \"cast('{end}' as date)\") }}}}) as {grain}_spine"
        for grain, (start, end) in SPINES.items()
    )
    rows = spark_rows(spines, tmp_path)

    found = {grain: sorted(day for row_grain, day in rows if row_grain == grain) for grain in SPINES}
    assert found == EXPECTED
