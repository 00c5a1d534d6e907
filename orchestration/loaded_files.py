"""Which landed files the warehouse has already loaded, kept in the Dagster instance's key-value store.

A successful run of the daily (reference) models records the event (dimension) files it saw as it started, whoever
launched it: `dwell run`, a sensor, the schedule, a backfill. The file sensors and the main command read the same
record, so files that one of them loaded are not new to the other (README "Schedule and sensors")."""

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance

from orchestration import landing, settings


@dataclass(frozen=True)
class FileKind:
    name: str
    listing: Callable[[Path], list[landing.LandedFile]]
    # Event rows stay loaded when their file goes; the dimensions are read whole again by each run.
    accumulates: bool

    def landed(self) -> list[landing.LandedFile]:
        return self.listing(settings.landing_dir())


# The daily runs read the event files and the retracted ones.
EVENTS = FileKind("events", landing.daily_input_files, accumulates=True)
DIMENSIONS = FileKind("dimensions", landing.dimension_files, accumulates=False)


def signatures(files: Iterable[landing.LandedFile]) -> dict[str, str]:
    return {str(file.path): file.signature for file in files}


def _key(kind: FileKind) -> str:
    # One record per warehouse: another warehouse under the same instance has loaded nothing of it.
    return f"dwell/loaded/{kind.name}/{settings.warehouse_identity()}"


def loaded(instance: DagsterInstance, kind: FileKind) -> dict[str, str]:
    """Path -> signature of every file of this kind that a successful run loaded."""
    value = instance.run_storage.get_cursor_values({_key(kind)}).get(_key(kind))
    return json.loads(value) if value else {}


def record_loaded(instance: DagsterInstance, kind: FileKind, files: Iterable[landing.LandedFile]) -> None:
    record = {**(loaded(instance, kind) if kind.accumulates else {}), **signatures(files)}
    instance.run_storage.set_cursor_values({_key(kind): json.dumps(record, sort_keys=True)})


def new_files(files: Iterable[landing.LandedFile], *seen: Mapping[str, str]) -> list[landing.LandedFile]:
    """The files whose path and signature none of the `seen` records holds: new, or rewritten since."""
    return [file for file in files if all(record.get(str(file.path)) != file.signature for record in seen)]

