"""Wall-clock time of each stage of a full build on one target, for the sizing study in docs/performance.md: the seeds,
staging (models/staging), sessionization (the models between staging and fct_sessions / fct_session_events,
and those two), and the other marts and intermediate models. Each stage is one `dbt run --full-refresh` (no tests),
in a process of its own, after the ones before it; on a Spark target `dwell copy-landing` runs first, timed apart.

    DWELL_LANDING_DIR=... DWELL_TARGET=spark_thrift .venv/bin/python bench/stages.py --events 1003464

Prints one JSON line per stage: seconds, events per second (the sample's event count over the stage's time), and the
machine's one-minute load average at its end (above the core count, other work shared the machine). Each time
includes dbt's start and partial parse, some 5-8 s."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SESSION_MARTS = "+fct_sessions +fct_session_events"
STAGES = {
    "seeds": ["seed", "--full-refresh"],
    "staging": ["run", "--full-refresh", "--select", "models/staging"],
    "sessionization": ["run", "--full-refresh", "--select", SESSION_MARTS, "--exclude", "models/staging"],
    "other marts": ["run", "--full-refresh", "--exclude", SESSION_MARTS, "models/staging", "models/semantic"],
}


def timed(argv: list[str]) -> float:
    started = time.monotonic()
    completed = subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{(completed.stdout + completed.stderr)[-6000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True, help="the landed sample's event count")
    parser.add_argument("--target-path", default="target/stages")
    args = parser.parse_args()
    target = os.environ.get("DWELL_TARGET", "duckdb")
    bin_dir = Path(sys.executable).parent
    dbt = [str(bin_dir / "dbt"), "--quiet"]
    common = ["--target", target, "--target-path", args.target_path]
    if target.startswith("spark"):
        seconds = timed([sys.executable, "-m", "orchestration.cli", "copy-landing", "--target", target])
        print(json.dumps({"target": target, "stage": "copy-landing", "seconds": round(seconds, 1)}), flush=True)
    for stage, argv in STAGES.items():
        seconds = timed([*dbt, *argv, *common])
        print(json.dumps({"target": target, "stage": stage, "seconds": round(seconds, 1),
                          "events_per_second": round(args.events / seconds),
                          "load_average": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
