"""An independent, plain-Python statement of dwell's sessionization rules, for comparison with the dbt models.

Deliberately written without windows or SQL: a loop per partition, in the order the README states the rules.
Times are integer microseconds since the epoch.
"""

import hashlib
from dataclasses import dataclass
from itertools import groupby


@dataclass(frozen=True)
class Rules:
    timeout_us: int
    restart_events: frozenset[str]
    end_events: frozenset[str]
    max_length_us: int | None
    partition_by: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    workspace_id: str | None
    event_name: str
    occurred_us: int
    counted: bool


@dataclass
class Session:
    session_id: str
    partition: tuple
    event_ids: list[str]
    start_us: int
    end_us: int
    start_reason: str
    last_event_name: str
    end_reason: str = "open"


def session_id(partition: tuple, first_event_id: str) -> str:
    key = "|".join("" if value is None else str(value) for value in (*partition, first_event_id))
    return hashlib.md5(key.encode()).hexdigest()


def sessionize(events: list[Event], rules: Rules, newest_us: int) -> list[Session]:
    """newest_us: the newest occurred_at among all staged events, counted or not."""

    def partition_of(event: Event) -> tuple:
        return tuple(getattr(event, column) for column in rules.partition_by)

    def partition_order(partition: tuple) -> tuple:
        return tuple((value is None, value or "") for value in partition)

    counted = sorted(
        (event for event in events if event.counted),
        key=lambda event: (partition_order(partition_of(event)), event.occurred_us, event.event_id),
    )
    sessions: list[Session] = []
    for partition, partition_events in groupby(counted, key=partition_of):
        partition_sessions: list[Session] = []
        previous: Event | None = None
        uncut_start_us = piece = 0
        for event in partition_events:
            if previous is None:
                reason = "first_event"
            elif event.event_name in rules.restart_events:
                reason = "restart_event"
            elif previous.event_name in rules.end_events:
                reason = "after_end_event"
            elif event.occurred_us - previous.occurred_us > rules.timeout_us:
                reason = "inactivity"
            else:
                reason = None
            if reason is not None:
                uncut_start_us, piece = event.occurred_us, 0
            event_piece = 0 if not rules.max_length_us else (event.occurred_us - uncut_start_us) // rules.max_length_us
            if reason is None and event_piece != piece:
                reason = "max_length"
            piece = event_piece
            if reason is not None:
                partition_sessions.append(
                    Session(session_id(partition, event.event_id), partition, [], event.occurred_us,
                            event.occurred_us, reason, event.event_name)
                )
            current = partition_sessions[-1]
            current.event_ids.append(event.event_id)
            current.end_us = event.occurred_us
            current.last_event_name = event.event_name
            previous = event

        for current, following in zip(partition_sessions, [*partition_sessions[1:], None]):
            if current.last_event_name in rules.end_events:
                current.end_reason = "end_event"
            elif following is not None:
                current.end_reason = following.start_reason
            elif newest_us - current.end_us > rules.timeout_us:
                current.end_reason = "inactivity"
            else:
                current.end_reason = "open"
        sessions.extend(partition_sessions)
    return sessions
