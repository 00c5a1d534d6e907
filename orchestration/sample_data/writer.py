"""Writing the events: one Parquet file per arrival day for most platforms and one gzip JSON-lines file per day for
the web (and every malformed row), each ordered by arrival. Strings are looked up per file from vocabularies built
once; JSON lines are assembled with pyarrow compute, three timestamp styles and optional keys left out included."""

import dataclasses
import datetime
import gzip
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.sample_data.arrays import concat, day_us, minute_us, second_us, take
from orchestration.sample_data.catalog import event_names, pages, platform_code, platforms, property_fields
from orchestration.sample_data.dimensions import Dimensions, ids, timezones
from orchestration.sample_data.events import (
    bad_timestamp_texts,
    fault_id_absent,
    fault_name_absent,
    fault_name_null,
    fault_user_absent,
    fault_user_null,
)

event_columns = (
    "event_id", "occurred_at", "received_at", "user_id", "event_name", "organization_id", "workspace_id",
    "project_id", "platform", "page", "session_id", "properties",
)
optional_json_keys = ("project_id", "page", "session_id")
# Trying dictionaries on unique or near-unique columns (event ids, properties) only wastes time.
dictionary_columns = (
    "user_id", "event_name", "organization_id", "workspace_id", "project_id", "platform", "page", "session_id",
)
# Readers prune row groups by time; statistics on the text columns would cost a fifth of the Parquet write.
statistics_columns = ("occurred_at", "received_at")
property_int_levels = 400
json_gzip_level = 1  # the JSON share is small; fast compression keeps 10M-event samples quick


@dataclasses.dataclass
class _Vocabulary:
    """Every string an event column can hold, built once; rows pick theirs by index."""

    seed: int
    user_ids: pa.Array
    org_ids: pa.Array
    ws_ids: pa.Array
    project_ids: pa.Array
    session_ids: pa.Array
    names: pa.Array
    platforms: pa.Array
    pages: pa.Array
    ws_org: np.ndarray
    user_tz_minutes: np.ndarray
    user_tz: np.ndarray
    tz_labels: pa.Array
    properties: pa.Array
    property_first: np.ndarray  # per event name: its first properties text
    property_levels: np.ndarray  # per event name: how many integer values
    property_options: np.ndarray  # per event name: how many categorical values


def _vocabulary(dims: Dimensions, seed: int, sessions: int) -> _Vocabulary:
    properties, first, levels, options = _property_texts()
    # An odd multiplier is a bijection modulo 2**48: unique, random-looking client session ids.
    mixed = (np.arange(sessions, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)) & np.uint64(
        2**48 - 1)
    return _Vocabulary(
        seed=seed,
        user_ids=pa.array(ids("usr", 6, len(dims.user_org))),
        org_ids=pa.array(ids("org", 4, len(dims.org_name))),
        ws_ids=pa.array(ids("ws", 5, len(dims.ws_org))),
        project_ids=pa.array(ids("prj", 6, int(dims.project_count.sum()))),
        session_ids=_join("sess_", pc.cast(pa.array(mixed), pa.string())),
        names=pa.array(event_names),
        platforms=pa.array(platforms),
        pages=pa.array([page for page, _ in pages]),
        ws_org=dims.ws_org.astype(np.int32),
        user_tz_minutes=np.array([minutes for _, minutes, _ in timezones])[dims.user_tz],
        user_tz=dims.user_tz.astype(np.int8),
        tz_labels=pa.array([label for label, _, _ in timezones]),
        properties=pa.array(properties),
        property_first=np.array(first),
        property_levels=np.array(levels),
        property_options=np.array(options),
    )


def _property_texts() -> tuple[list[str], list[int], list[int], list[int]]:
    """All properties texts, event name by event name: every integer level crossed with every categorical value.

    Integers are log-spaced levels rather than free values, so properties are looked up instead of formatted.
    """
    texts, first, levels, options = [], [], [], []
    for name in event_names:
        integer, categorical = property_fields[name]
        values = [None]
        if integer:
            key, low, high = integer
            values = [f'"{key}": {round(v)}' for v in np.geomspace(low, high, property_int_levels)]
        choices = [f'"{categorical[0]}": {c}' for c in categorical[1]] if categorical else [None]
        first.append(len(texts))
        levels.append(len(values))
        options.append(len(choices))
        texts.extend("{" + ", ".join(f for f in (v, c) if f) + "}" for v in values for c in choices)
    return texts, first, levels, options


def write_events(
    rng: np.random.Generator, pieces: list[dict[str, np.ndarray]], dims: Dimensions, seed: int, start_us: int,
    days: int, out: Path,
) -> None:
    """One file per arrival day and format, each ordered by received_at, written in parallel threads."""
    n_files = 2 * days  # a Parquet and a JSON file per day
    layouts = []
    for piece in pieces:
        as_json = (piece["platform"] == platform_code["web"]) | (piece["fault"] > 0)
        # A 16-bit key sorts by radix; the order inside each file is settled in the file's own thread.
        file_key = ((piece["received"] - start_us) // day_us * 2 + as_json).astype(np.int16)
        order = np.argsort(file_key, kind="stable")
        layouts.append((order, np.searchsorted(file_key[order], np.arange(n_files + 1))))
    sizes = sum(np.diff(bounds) for _, bounds in layouts)
    files = [key for key in range(n_files) if sizes[key]]
    # Drawn before the threads start, so the thread schedule cannot change the data.
    json_choices = {key: _json_choices(rng, sizes[key]) for key in files if key % 2}
    vocabulary = _vocabulary(dims, seed, max(int(piece["session"].max(initial=-1)) for piece in pieces) + 1)
    first_day = datetime.datetime.fromtimestamp(start_us // second_us, datetime.UTC).date()

    def write(key: int) -> None:
        part = concat([
            take(piece, order[bounds[key] : bounds[key + 1]]) for piece, (order, bounds) in zip(pieces, layouts)
        ])
        part = take(part, np.argsort(part["received"], kind="stable"))
        date = (first_day + datetime.timedelta(days=key // 2)).isoformat()
        if key % 2:
            path = out / "events" / "web" / f"received_date={date}" / "events.jsonl.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = _json_lines(part, vocabulary, json_choices[key])
            path.write_bytes(gzip.compress(_joined_bytes(lines), compresslevel=json_gzip_level, mtime=0))
        else:
            path = out / "events" / f"received_date={date}" / "events.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                _parquet_table(part, vocabulary), path, compression="zstd", use_dictionary=dictionary_columns,
                write_statistics=statistics_columns, store_schema=False,
            )

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        list(pool.map(write, files))


def _json_choices(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per JSON row: timestamp format of each field and which null optional keys are left out."""
    return {
        "occurred_format": rng.integers(0, 3, n).astype(np.int8),
        "received_format": rng.integers(0, 3, n).astype(np.int8),
        **{f"omit_{key}": rng.random(n) < 0.5 for key in optional_json_keys},
    }


def _lookup(dictionary: pa.Array, indices: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """dictionary[indices] as plain strings; null where an index is negative or not valid."""
    mask = indices < 0 if valid is None else ~valid
    return pc.take(dictionary, pa.array(indices, mask=mask))


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _eventids(n: np.ndarray, seed: int) -> pa.Array:
    return _join(f"evt_{seed}_", pc.cast(pa.array(n), pa.string()))


def _properties(part: dict[str, np.ndarray], vocabulary: _Vocabulary) -> pa.Array:
    code = part["name"]
    level = (part["property_draw"] * vocabulary.property_levels[code]).astype(np.int64)
    options = vocabulary.property_options[code]
    option = (part["option_draw"] * options).astype(np.int64)
    return _lookup(vocabulary.properties, vocabulary.property_first[code] + level * options + option)


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.timestamp("us", tz="UTC"))


def _parquet_table(part: dict[str, np.ndarray], vocabulary: _Vocabulary) -> pa.Table:
    return pa.table({
        "event_id": _eventids(part["n"], vocabulary.seed),
        "occurred_at": _timestamps(part["occurred"]),
        "received_at": _timestamps(part["received"]),
        "user_id": _lookup(vocabulary.user_ids, part["user"]),
        "event_name": _lookup(vocabulary.names, part["name"]),
        "organization_id": _lookup(vocabulary.org_ids, vocabulary.ws_org[part["workspace"]]),
        "workspace_id": _lookup(vocabulary.ws_ids, part["workspace"]),
        "project_id": _lookup(vocabulary.project_ids, part["project"]),
        "platform": _lookup(vocabulary.platforms, part["platform"]),
        "page": _lookup(vocabulary.pages, part["page"]),
        "session_id": _lookup(vocabulary.session_ids, part["session"]),
        "properties": _properties(part, vocabulary),
    })


def _iso_texts(us: np.ndarray, user: np.ndarray, form: np.ndarray, vocabulary: _Vocabulary) -> pa.Array:
    """ISO-8601 texts in three styles: UTC with Z, local time with the user's offset, zone-less UTC."""
    # Casting to string prints 'YYYY-MM-DD HH:MM:SS.ffffff', much faster than strftime.
    utc = pc.cast(pa.array(us, pa.timestamp("us")), pa.string())
    with_z = _join(_t_separated(utc), "Z")
    local = pc.cast(pa.array(us + vocabulary.user_tz_minutes[user] * minute_us, pa.timestamp("us")), pa.string())
    offset_label = _lookup(vocabulary.tz_labels, vocabulary.user_tz[user])
    with_offset = _join(_t_separated(local), offset_label)
    zoneless = pc.replace_substring_regex(utc, r"\.?0+$", "")
    return pc.choose(pa.array(form), with_z, with_offset, zoneless)


def _t_separated(timestamps: pa.Array) -> pa.Array:
    return pc.replace_substring(timestamps, " ", "T", max_replacements=1)


def _quoted(values: pa.Array) -> pa.Array:
    return pc.fill_null(_join('"', values, '"'), "null")


def _json_field(key: str, value: pa.Array, present: np.ndarray | None = None) -> pa.Array:
    """'"key": value, ', or '' where the key is left out of the line."""
    field = _join(f'"{key}": ', value, ", ")
    return field if present is None else pc.if_else(pa.array(present), field, "")


def _json_lines(part: dict[str, np.ndarray], vocabulary: _Vocabulary, choices: dict[str, np.ndarray]) -> pa.Array:
    fault, user = part["fault"], part["user"]
    occurred = _iso_texts(part["occurred"], user, choices["occurred_format"], vocabulary)
    for kind, text in bad_timestamp_texts.items():
        occurred = pc.if_else(pa.array(fault == kind), text, occurred)
    received = _iso_texts(part["received"], user, choices["received_format"], vocabulary)
    user_valid = (fault != fault_user_null) & (fault != fault_user_absent)
    name_valid = (fault != fault_name_null) & (fault != fault_name_absent)
    optional = {
        "project_id": _lookup(vocabulary.project_ids, part["project"]),
        "page": _lookup(vocabulary.pages, part["page"]),
        "session_id": _lookup(vocabulary.session_ids, part["session"]),
    }
    optional = {
        key: _json_field(key, _quoted(value), ~(choices[f"omit_{key}"] & _is_null(value)))
        for key, value in optional.items()
    }
    fields = [
        _json_field("event_id", _quoted(_eventids(part["n"], vocabulary.seed)), fault != fault_id_absent),
        _json_field("occurred_at", _quoted(occurred)),
        _json_field("received_at", _quoted(received)),
        _json_field("user_id", _quoted(_lookup(vocabulary.user_ids, user, user_valid)), fault != fault_user_absent),
        _json_field("event_name", _quoted(_lookup(vocabulary.names, part["name"], name_valid)),
                    fault != fault_name_absent),
        _json_field("organization_id", _quoted(_lookup(vocabulary.org_ids, vocabulary.ws_org[part["workspace"]]))),
        _json_field("workspace_id", _quoted(_lookup(vocabulary.ws_ids, part["workspace"]))),
        optional["project_id"],
        _json_field("platform", _quoted(_lookup(vocabulary.platforms, part["platform"]))),
        optional["page"],
        optional["session_id"],
    ]
    # properties is always present and last, so every other field can carry a trailing separator.
    return _join("{", *fields, '"properties": ', _properties(part, vocabulary), "}\n")


def _is_null(values: pa.Array) -> np.ndarray:
    return pc.is_null(values).to_numpy(zero_copy_only=False)


def _joined_bytes(lines: pa.Array) -> bytes:
    """The concatenation of a string array's values, straight from its data buffer."""
    offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return data[int(offsets[0]) : int(offsets[-1])].to_pybytes() if data is not None else b""


def replace_sample(staging: Path, landing: Path) -> list[Path]:
    """Swap the staged sample in, removing every file of a previous sample; returns the new files."""
    files = sorted(landing / path.relative_to(staging) for path in staging.rglob("*") if path.is_file())
    for entry in sorted(staging.iterdir()):
        target = landing / entry.name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        entry.rename(target)
    return files
