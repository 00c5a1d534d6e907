"""The incremental-cost benchmark still runs end to end (a tiny size; timings are printed, never asserted)."""

import subprocess
import sys

from orchestration.settings import PROJECT_DIR


def test_incremental_cost_benchmark_smoke(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/incremental_cost.py", "--smoke", "--workdir", str(tmp_path / "bench")],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "incremental" in result.stdout and "full" in result.stdout
