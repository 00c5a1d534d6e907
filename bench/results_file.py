"""The sections of bench/RESULTS.md: the harness writes the file's head, and each script that measures something of
its own (serve_load.py, history_size.py) replaces its `## ` section; a harness run keeps them."""

from __future__ import annotations

from pathlib import Path


def section_of(results: Path, heading: str) -> str | None:
    """The section under `heading` in an existing results file, up to the next `## ` heading."""
    if not results.exists() or heading not in results.read_text():
        return None
    after = results.read_text().partition(heading)[2].split("\n## ", 1)[0]
    return heading + after.rstrip() + "\n"


def without_section(text: str, heading: str) -> str:
    """The results text with the section under `heading` taken out."""
    if heading not in text:
        return text
    before, _, after = text.partition(heading)
    rest = after.split("\n## ", 1)
    return before.rstrip() + "\n" + ("\n## " + rest[1] if len(rest) > 1 else "")


def sections(results: Path) -> str:
    """Every `## ` section of an existing results file, for a harness run, which writes the head, to keep."""
    if not results.exists() or "\n## " not in results.read_text():
        return ""
    return "## " + results.read_text().split("\n## ", 1)[1].rstrip() + "\n"
