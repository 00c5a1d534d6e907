"""`dwell run`'s output: a progress line per job for people, and everything Dagster and dbt print in a log file.

Inside the block, file descriptors 1 and 2 and Python's sys.stdout and sys.stderr all write to the log, so the
dbt processes Dagster starts, Dagster's loggers, dbt's own output and library warnings (Dagster's BetaWarning,
SupersessionWarning: nothing a user of dwell can act on) land there, whoever opened the stream and when."""

import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

# Older logs are deleted beyond this many.
LOGS_KEPT = 20
LOG_PREFIX = "dwell-run-"


class RunLog:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        self.path = directory / f"{LOG_PREFIX}{stamp}.log"
        for old in sorted(directory.glob(f"{LOG_PREFIX}*.log"))[:-LOGS_KEPT + 1]:
            old.unlink(missing_ok=True)
        self._terminal: TextIO = sys.stdout

    def __enter__(self) -> "RunLog":
        sys.stdout.flush()
        sys.stderr.flush()
        self._log = open(self.path, "a", buffering=1)
        self._saved_streams = (sys.stdout, sys.stderr)
        self._saved_fds = (os.dup(1), os.dup(2))
        try:
            # Where sys.stdout is the process's own standard output, fd 1 is about to point at the log.
            self._terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
            self._own_terminal = True
        except (AttributeError, OSError, ValueError):
            self._own_terminal = False
        os.dup2(self._log.fileno(), 1)
        os.dup2(self._log.fileno(), 2)
        sys.stdout = sys.stderr = self._log
        return self

    def __exit__(self, *exc_info) -> None:
        self._log.flush()
        sys.stdout, sys.stderr = self._saved_streams
        for fd, saved in zip((1, 2), self._saved_fds):
            os.dup2(saved, fd)
            os.close(saved)
        self._log.close()
        if self._own_terminal:
            self._terminal.close()

    def say(self, text: str) -> None:
        """A line for the user, copied into the log where it falls among the details."""
        print(text, file=self._terminal, flush=True)
        self.note(text)

    def note(self, text: str) -> None:
        """A line for the log only, timed, where it falls among the details."""
        print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S.%f} dwell: {text}", file=self._log, flush=True)

    @contextmanager
    def step(self, what: str):
        """`what ... 12.3 s` on one line: the start before the work, the time when it ends (or fails)."""
        print(f"{what} ...", end="", file=self._terminal, flush=True)
        self.note(what)
        began = time.perf_counter()
        try:
            yield
        except BaseException:
            print(f" failed after {time.perf_counter() - began:.1f} s", file=self._terminal, flush=True)
            raise
        print(f" {time.perf_counter() - began:.1f} s", file=self._terminal, flush=True)
        self.note(f"{what}: done in {time.perf_counter() - began:.1f} s")
