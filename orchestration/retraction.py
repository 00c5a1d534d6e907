"""`dwell retract`: take a landed event file back (README "Retracting a file"). The file moves from
<landing>/events/<path> to <landing>/retracted/<path>; the next build takes back the rows its versions loaded."""

import os
from pathlib import Path

from orchestration.errors import DwellError
from orchestration.landing import EVENTS_FOLDER, RETRACTED_FOLDER


def retract(landing_dir: Path, path: Path) -> Path:
    """Move an event file under <landing>/events/ to the same place under <landing>/retracted/; return where."""
    events = (landing_dir / EVENTS_FOLDER).resolve()
    source = path.resolve()
    if not source.is_relative_to(events):
        raise DwellError(f"{path} is not under {events}: only landed event files can be retracted")
    if not source.is_file():
        raise DwellError(f"{path} is not a file")
    destination = landing_dir.resolve() / RETRACTED_FOLDER / source.relative_to(events)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # A rename keeps the file's size and modification time. A version retracted before may be replaced: its
    # retraction is recorded in the warehouse, and this version is a retraction of its own.
    os.replace(source, destination)
    return destination
