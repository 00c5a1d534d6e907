"""Random event streams that hit every sessionization boundary, and the dbt vars of a set of rules: shared by the
tests that compare dwell's sessions with tests/reference_sessions.py."""

import random
from datetime import datetime, timedelta, timezone

from reference_sessions import Event, Rules

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RESTART_CANDIDATES = ["login", "session_start", "app_opened"]
END_CANDIDATES = ["logout", "session_end", "workspace_blur"]
NOT_COUNTED = ["notification_sent", "identity_set", "utm_visited"]
ORDINARY = ["ide_search", "build_started", "page_view", "custom_unknown_event", "workspace_focus"]


def random_rules(rng: random.Random) -> Rules:
    timeout_us = rng.choice([450_000, 1_500_000, 60_000_000, 600_000_000, 1_800_000_000])
    return Rules(
        timeout_us=timeout_us,
        restart_events=frozenset(rng.sample(RESTART_CANDIDATES, rng.randint(0, 2))),
        end_events=frozenset(rng.sample(END_CANDIDATES, rng.randint(0, 2))),
        max_length_us=rng.choice([None, timeout_us * rng.randint(2, 6), 3_600_000_000]),
        partition_by=rng.choice([("user_id",), ("user_id", "workspace_id")]),
    )


def random_gap(rng: random.Random, timeout_us: int) -> int:
    """Gaps that hit every boundary: equal to the timeout, a microsecond either side, zero, and anything else."""
    return rng.choice([
        timeout_us, timeout_us + 1, timeout_us - 1, 0, 1,
        rng.randint(0, timeout_us), rng.randint(timeout_us, timeout_us * 4),
    ])


def random_events(rng: random.Random, rules: Rules, users: int) -> list[Event]:
    events = []
    names = RESTART_CANDIDATES + END_CANDIDATES + NOT_COUNTED + ORDINARY * 3
    for user in range(users):
        # Start near midnight so sessions cross it.
        at_us = int((datetime(2026, 3, 1, 23, 40, tzinfo=timezone.utc) - EPOCH).total_seconds() * 1e6)
        for index in range(rng.randint(1, 40)):
            at_us += random_gap(rng, rules.timeout_us)
            name = rng.choice(names)
            events.append(Event(
                event_id=f"e{rng.randint(0, 10**9):09d}-{user}-{index}",
                user_id=f"u{user}",
                workspace_id=rng.choice(["w1", "w2", None]),
                event_name=name,
                occurred_us=at_us,
                counted=name not in NOT_COUNTED,
            ))
    return events


def iso(occurred_us: int) -> str:
    return (EPOCH + timedelta(microseconds=occurred_us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def land_events(warehouse, events: list[Event]) -> None:
    warehouse.write_jsonl("events/stream.jsonl", [
        {"event_id": e.event_id, "user_id": e.user_id, "workspace_id": e.workspace_id,
         "event_name": e.event_name, "occurred_at": iso(e.occurred_us)}
        for e in events
    ])


def rules_vars(rules: Rules) -> dict:
    """The dbt vars that set the rules."""
    return {
        "session_timeout_seconds": rules.timeout_us / 1e6,
        "session_restart_events": sorted(rules.restart_events),
        "session_end_events": sorted(rules.end_events),
        "session_max_length_seconds": 0 if rules.max_length_us is None else rules.max_length_us / 1e6,
        "session_partition_by": list(rules.partition_by),
    }
