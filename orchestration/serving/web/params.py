"""Request parameters, validated before anything reaches SQL: every bad value is an ApiError (a 400 with a message).
Values reach SQL only as bound parameters."""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

# The longest range of days an endpoint with a range takes (activity, session duration, board, period reports).
MAX_RANGE_DAYS = 1096
# Text parameters (ids, names, filters) are at most this long.
MAX_TEXT_LENGTH = 200
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
INTERVAL_UNITS = ("day", "week", "month", "year")
GRAINS = ("day", "week", "month", "lifetime")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?")
# The same as the dbt macro dwell_activity_interval: '<N> day(s)|week(s)|month(s)|year(s)', 1 <= N <= 99999.
_INTERVAL = re.compile(r" *([1-9][0-9]{0,4}) +(day|week|month|year)s? *")
_INTEGER = re.compile(r"[0-9]{1,6}")


class ApiError(Exception):
    """An answer other than 200: a status and a message, sent as JSON {"message": ...}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def text(name: str, value: str | None, *, required: bool = False) -> str | None:
    """A free text parameter (an id, a name, a filter): printable, at most MAX_TEXT_LENGTH characters."""
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    if len(value) > MAX_TEXT_LENGTH:
        raise bad_request(f"{name} is longer than {MAX_TEXT_LENGTH} characters")
    if not value.isprintable():
        raise bad_request(f"{name} must not contain control characters")
    return value


def parse_date(name: str, value: str | None, *, required: bool = False) -> date | None:
    """A UTC day YYYY-MM-DD."""
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is required (a date YYYY-MM-DD)")
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise bad_request(f"{name} must be a date YYYY-MM-DD, got: {value!r}"[:300])
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} is not a calendar date: {value!r}") from None


def parse_time(name: str, value: str | None, *, required: bool = False) -> datetime | None:
    """A time as RFC 3339 (2026-10-01T00:00:00Z, an offset, or none for UTC) or a date (its UTC midnight), as a
    naive UTC datetime, the way the marts store times."""
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is required (a time like 2026-10-01T00:00:00Z, or a date)")
        return None
    if isinstance(value, str) and _DATE.fullmatch(value):
        day = parse_date(name, value)
        return datetime.combine(day, time())
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise bad_request(f"{name} must be a time like 2026-10-01T00:00:00Z or a date YYYY-MM-DD, got: {value!r}"[:300])
    normalized = value.replace(" ", "T").replace("z", "Z")
    fraction = re.search(r"\.([0-9]+)", normalized)
    if fraction and len(fraction.group(1)) > 6:
        # Nanoseconds are cut to the microseconds the marts hold.
        normalized = normalized.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(normalized)
    except ValueError:
        raise bad_request(f"{name} is not a valid time: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def check_order(start, end, *, strict: bool = False, names: tuple[str, str] = ("start", "end")) -> None:
    if start is not None and end is not None and (end <= start if strict else end < start):
        raise bad_request(f"{names[0]} must be before {names[1]}, got: {start.isoformat()}, {end.isoformat()}")


def check_range(start, end, names: tuple[str, str] = ("start", "end")) -> None:
    if start is not None and end is not None:
        days = (end - start).days if isinstance(end, date) and not isinstance(end, datetime) else (end - start) / timedelta(days=1)
        if days > MAX_RANGE_DAYS:
            raise bad_request(f"the range from {names[0]} to {names[1]} is {days:g} days; at most {MAX_RANGE_DAYS} "
                              "days are allowed")


def utc_midnight_date(name: str, value: datetime) -> date:
    if value.time() != time():
        raise bad_request(f"{name} must be a UTC midnight: activity is counted per UTC day, got: "
                          f"{value.isoformat()}Z")
    return value.date()


def parse_interval(value: str | None) -> tuple[int, str]:
    if value is None or value == "":
        raise bad_request("interval is required, like '1 day', '1 week', '90 day', '1 month' or '1 year'")
    match = _INTERVAL.fullmatch(value.lower()) if isinstance(value, str) else None
    if match is None:
        raise bad_request(f"interval must be like '1 day', '1 week', '90 day', '1 month' or '1 year', got: {value!r}"[:300])
    return int(match.group(1)), match.group(2)


def add_months(day: date, months: int) -> date:
    """day + months calendar months, clamped to the month's last day (January 31 + 1 month = February 28 or 29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        return date.max
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def buckets(start: date, end: date, step: int, unit: str) -> list[tuple[date, date]]:
    """The buckets of dwell_activity_report: half-open [start, end) cut at start + i * interval (months and years
    counted from start and clamped to the month's end, never from the previous bucket), the last one ending at end."""
    starts = []
    index = 0
    while True:
        units = step * index
        if unit == "day":
            bucket_start = start + timedelta(days=units)
        elif unit == "week":
            bucket_start = start + timedelta(days=7 * units)
        elif unit == "month":
            bucket_start = add_months(start, units)
        else:
            bucket_start = add_months(start, 12 * units)
        if bucket_start >= end:
            break
        starts.append(bucket_start)
        index += 1
    return list(zip(starts, [*starts[1:], end]))


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or not _INTEGER.fullmatch(value) or not 1 <= int(value) <= maximum:
        raise bad_request(f"limit must be a whole number from 1 to {maximum}, got: {value!r}"[:300])
    return int(value)


def parse_choice(name: str, value: str | None, choices, default: str | None = None) -> str:
    if value is None or value == "":
        if default is None:
            raise bad_request(f"{name} is required, one of: {', '.join(choices)}")
        return default
    if value not in choices:
        raise bad_request(f"{name} must be one of: {', '.join(choices)}, got: {value!r}"[:300])
    return value


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(value: str | None, shape: tuple[type, ...]) -> list | None:
    """An opaque cursor this API gave (base64 of a JSON list), checked against the types it must hold."""
    if value is None or value == "":
        return None
    error = bad_request("cursor is not one this API gave: pass next_cursor from a previous page as it is")
    if not isinstance(value, str) or len(value) > 400 or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise error
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise error from None
    if not isinstance(decoded, list) or len(decoded) != len(shape) or not all(
            isinstance(item, kind) for item, kind in zip(decoded, shape)):
        raise error
    return decoded


@dataclass(frozen=True)
class Body:
    """A JSON object body, its keys checked."""

    values: Mapping

    @classmethod
    def parse(cls, raw: bytes, allowed: set[str]) -> Body:
        try:
            values = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise bad_request("the body must be a JSON object") from None
        if not isinstance(values, dict):
            raise bad_request("the body must be a JSON object")
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise bad_request(f"unknown field(s) in the body: {', '.join(map(repr, unknown))}; "
                              f"allowed: {', '.join(sorted(allowed))}"[:400])
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise bad_request(f"{key} must be a string")
        return cls(values)

    def get(self, key: str) -> str | None:
        return self.values.get(key)
