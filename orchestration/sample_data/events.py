"""The events themselves: bursts of activity per user and active day (a session's worth of events, opened and
closed by the usual events, paced by think time and away time), background events in between, delivery delays with
some days-late arrivals, exact re-sends and malformed rows. Every column is an array of codes and indexes; strings
come at write time (orchestration/sample_data/writer.py)."""

import dataclasses

import numpy as np
import pandas as pd

from orchestration.sample_data.arrays import (
    concat,
    day_us,
    hour_us,
    millisecond_us,
    minute_us,
    pick_per_group,
    second_us,
    take,
    weighted_codes,
    weighted_pick,
)
from orchestration.sample_data.catalog import (
    background_event_weights,
    background_share,
    background_platforms,
    burst_closers,
    burst_event_weights,
    burst_openers,
    client_session_id_rate,
    client_session_reuse_rate,
    closer_rate,
    event_code,
    event_names,
    followups,
    identity_after_login_rate,
    name_mask,
    opener_rate,
    pages,
    platform_code,
    platform_share,
    platforms,
    primary_platform_loyalty,
    project_events,
)
from orchestration.sample_data.dimensions import Dimensions, timezones

chunk_events = 1 << 20
default_events_per_burst = 20.0
min_events_per_burst = 3.0
bursts_per_active_day_extra = (3, 0.3)  # binomial(n, p) bursts on top of the first one
weekend_activity = 0.2
mean_event_gap_s = 30.0
think_rate = 0.05
max_event_gap_us = 20 * minute_us
blur_rate = 0.02
min_idle_gap_us = 40 * minute_us
mean_extra_idle_gap_min = 90.0

late_share = 0.01
max_late_days = 20
duplicate_share = 0.002
min_duplicates = 3
malformed_share = 0.001
min_malformed = 8
# Malformed kinds, cycled so every kind exists even at the minimum count.
fault_user_absent, fault_user_null, fault_id_absent, fault_name_absent, fault_name_null, fault_ts_text, \
    fault_ts_date = range(1, 8)
fault_kinds = 7
bad_timestamp_texts = {fault_ts_text: "not-a-timestamp", fault_ts_date: "2026-13-45T99:00:00Z"}


def simulate_events(
    rng: np.random.Generator, dims: Dimensions, days: int, start_us: int, start_weekday: int, target: int | None
) -> list[dict[str, np.ndarray]]:
    """Events as pieces of whole users' activity plus one piece of background events.

    Rows stay in pieces of about chunk_events all the way to the writer: ten-million-row temporaries would each be
    fresh memory, and page faults would then dominate the run time.
    """
    end_us = start_us + days * day_us
    burst_target = None
    if target is not None:
        overhead = 1 + background_share + duplicate_share + malformed_share
        burst_target = target / overhead
    bursts = _simulate_bursts(rng, dims, days, start_us, start_weekday, burst_target)
    pieces = [_burst_events(rng, chunk, end_us) for chunk in _chunks(bursts)]
    kept = sum(len(piece["user"]) for piece in pieces)
    if burst_target is not None and burst_target > 1.03 * kept:
        # Bursts pushed past the end of the period lose their events; with few bursts that misses the target.
        bursts.size = np.maximum(1, np.round(bursts.size * burst_target / max(1, kept))).astype(np.int64)
        pieces = [_burst_events(rng, chunk, end_us) for chunk in _chunks(bursts)]
        kept = sum(len(piece["user"]) for piece in pieces)
    pieces.append(_background_events(rng, dims, start_us, end_us, round(background_share * kept)))
    first_id = np.cumsum([0] + [len(piece["user"]) for piece in pieces])
    for piece, first in zip(pieces, first_id):
        piece["n"] = np.arange(first, first + len(piece["user"]), dtype=np.int64)
        piece["fault"] = np.zeros(len(piece["user"]), np.int8)
    return [_complete(rng, piece, end_us) for piece in pieces]


def _complete(rng: np.random.Generator, piece: dict[str, np.ndarray], end_us: int) -> dict[str, np.ndarray]:
    """Arrival times, pages, project scoping and property draws of a piece of events."""
    web = piece["platform"] == platform_code["web"]
    # Browsers report milliseconds.
    piece["occurred"][web] -= piece["occurred"][web] % millisecond_us
    piece["received"] = _received_times(rng, piece["occurred"], end_us)
    code = piece["name"]
    piece["project"] = np.where(name_mask(project_events)[code], piece["project"], -1).astype(np.int32)
    page_view = np.flatnonzero(code == event_code["page_view"])
    piece["page"] = np.full(len(code), -1, np.int8)
    piece["page"][page_view] = weighted_pick(rng, np.array([w for _, w in pages], float), len(page_view))
    # Turned into property values per output file (writer.py, _properties).
    piece["property_draw"] = rng.random(len(code), np.float32)
    piece["option_draw"] = rng.random(len(code), np.float32)
    return piece


@dataclasses.dataclass
class _Bursts:
    user: np.ndarray
    desired_start: np.ndarray
    platform: np.ndarray
    workspace: np.ndarray
    project: np.ndarray
    session: np.ndarray
    size: np.ndarray
    idle_after: np.ndarray
    gap_scale: float


def _simulate_bursts(
    rng: np.random.Generator, dims: Dimensions, days: int, start_us: int, start_weekday: int,
    burst_target: float | None,
) -> _Bursts:
    total = len(dims.user_org)
    day = np.arange(days)
    day_factor = np.where((start_weekday + day) % 7 < 5, 1.0, weekend_activity)
    propensity = rng.beta(2.0, 2.5, total)
    active = (rng.random((total, days)) < propensity[:, None] * day_factor) & (day >= dims.user_reg_day[:, None])
    new = np.flatnonzero(dims.user_new)
    active[new, dims.user_reg_day[new]] = True
    idle = np.flatnonzero(~active.any(axis=1))
    active[idle, rng.integers(0, days, len(idle))] = True

    active_user, active_day = np.nonzero(active)
    per_day = 1 + rng.binomial(*bursts_per_active_day_extra, len(active_user))
    user = np.repeat(active_user, per_day)
    burst_day = np.repeat(active_day, per_day)
    user_day = np.repeat(np.arange(len(active_user)), per_day)
    local_hour = 7 + 15 * rng.random(len(user))
    local_hour = local_hour[np.argsort(user_day * 24 + local_hour, kind="stable")]
    tz_minutes = np.array([minutes for _, minutes, _ in timezones])[dims.user_tz[user]]
    desired = start_us + burst_day * day_us + (local_hour * hour_us).astype(np.int64) - tz_minutes * minute_us
    desired = np.maximum(desired, start_us + (rng.random(len(user)) * 30 * minute_us).astype(np.int64))
    # Evening bursts of the last day may fall after the period for users west of UTC; keep at least one burst.
    earliest = np.argmin(desired)
    desired[earliest] = min(desired[earliest], start_us + days * day_us - hour_us)
    within = desired < start_us + days * day_us
    user, desired = user[within], desired[within]

    mean_size = default_events_per_burst
    if burst_target is not None:
        mean_size = burst_target / len(user)
        if mean_size < min_events_per_burst:
            draw = rng.random(len(user))
            keep = draw < mean_size / min_events_per_burst
            keep[np.argmin(draw)] = True
            user, desired = user[keep], desired[keep]
            mean_size = min_events_per_burst
    n_bursts = len(user)

    primary = rng.choice(len(platforms), total, p=platform_share)
    loyal = rng.random(n_bursts) < primary_platform_loyalty
    platform = np.where(loyal, primary[user], rng.choice(len(platforms), n_bursts, p=platform_share)).astype(np.int8)
    workspace = dims.user_ws[user, (rng.random(n_bursts) * dims.user_ws_count[user]).astype(np.int64)]
    project = dims.project_first[workspace] + (rng.random(n_bursts) * dims.project_count[workspace]).astype(np.int64)
    size = 1 + rng.poisson((mean_size - 1) * rng.gamma(1.5, 1 / 1.5, n_bursts))
    if burst_target is not None:
        # Small samples have few bursts, so their random sizes are rescaled to land on the target.
        size = np.maximum(1, np.round(size * (burst_target / size.sum()))).astype(np.int64)
    idle_after = ((40 + rng.exponential(mean_extra_idle_gap_min, n_bursts)) * minute_us).astype(np.int64)
    return _Bursts(
        user=user, desired_start=desired, platform=platform, workspace=workspace, project=project,
        session=_client_sessions(rng, user, platform), size=size, idle_after=idle_after,
        gap_scale=min(1.0, default_events_per_burst / mean_size),
    )


def _chunks(bursts: _Bursts) -> list[_Bursts]:
    """Consecutive whole users' bursts, about chunk_events events each."""
    user_start = np.flatnonzero(np.diff(bursts.user, prepend=-1) != 0)
    events_before = (np.cumsum(bursts.size) - bursts.size)[user_start]
    cuts = np.append(user_start[np.diff(events_before // chunk_events, prepend=-1) > 0], len(bursts.user))
    return [
        dataclasses.replace(bursts, **{
            field.name: getattr(bursts, field.name)[start:stop]
            for field in dataclasses.fields(bursts) if field.name != "gap_scale"
        })
        for start, stop in zip(cuts[:-1], cuts[1:])
    ]


def _client_sessions(rng: np.random.Generator, user: np.ndarray, platform: np.ndarray) -> np.ndarray:
    """Client session number per burst, or -1; clients sometimes keep one session id across bursts."""
    rate = np.array([client_session_id_rate[p] for p in platforms])[platform]
    has = rng.random(len(user)) < rate
    continues = np.zeros(len(user), bool)
    continues[1:] = has[1:] & has[:-1] & (user[1:] == user[:-1])
    continues &= rng.random(len(user)) < client_session_reuse_rate
    origin = np.maximum.accumulate(np.where(continues, 0, np.arange(len(user))))
    return np.where(has, origin, -1)


def _burst_events(rng: np.random.Generator, bursts: _Bursts, end_us: int) -> dict[str, np.ndarray]:
    size = bursts.size
    first = np.cumsum(size) - size
    is_first = np.zeros(size.sum(), bool)
    is_first[first] = True
    is_last = np.zeros_like(is_first)
    is_last[first + size - 1] = True
    platform = np.repeat(bursts.platform, size)

    name, returning = _burst_event_names(rng, bursts, platform, is_first, is_last)
    gap = rng.exponential(mean_event_gap_s * second_us * bursts.gap_scale, len(name))
    thinking = np.flatnonzero(rng.random(len(name), np.float32) < think_rate)
    gap[thinking] = (2 + 6 * rng.random(len(thinking))) * minute_us * bursts.gap_scale
    np.clip(gap, millisecond_us, max_event_gap_us, out=gap)
    # Leaving the tab takes minutes whatever the event density; blur_rate was scaled down instead.
    gap[returning] = (2 + 10 * rng.random(len(returning))) * minute_us
    gap[is_first] = 0
    offset = np.cumsum(gap.astype(np.int64))
    offset -= np.repeat(offset[first], size)
    duration = offset[first + size - 1]

    # Each burst starts at its desired time, or after the previous burst of the user plus an idle gap.
    carry = duration + bursts.idle_after
    before = np.cumsum(carry) - carry
    latest = pd.Series(bursts.desired_start - before).groupby(bursts.user).cummax().to_numpy()
    occurred = offset + np.repeat(latest + before, size)

    columns = {
        "user": np.repeat(bursts.user.astype(np.int32), size),
        "occurred": occurred,
        "name": name,
        "workspace": np.repeat(bursts.workspace.astype(np.int32), size),
        "project": np.repeat(bursts.project.astype(np.int32), size),
        "platform": platform,
        "session": np.repeat(bursts.session.astype(np.int32), size),
    }
    keep = occurred < end_us
    if keep.all():
        return columns
    return {key: values[keep] for key, values in columns.items()}


def _burst_event_names(
    rng: np.random.Generator, bursts: _Bursts, platform: np.ndarray, is_first: np.ndarray, is_last: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Event names inside bursts, and the indexes of focus events that return from a blur."""
    # One search over the platforms' stacked cumulative weights: platform p searches p + draw in block p.
    cumulative = np.concatenate([
        p + np.cumsum(weights) / weights.sum()
        for p, weights in enumerate(
            np.array([burst_event_weights[platform_name].get(e, 0.0) for e in event_names])
            for platform_name in platforms
        )
    ])
    stacked = np.searchsorted(cumulative, platform + rng.random(len(platform)), side="right")
    name = (stacked - platform.astype(np.int64) * len(event_names)).astype(np.int8)

    first = np.flatnonzero(is_first)
    opens = first[rng.random(len(first)) < opener_rate]
    name[opens] = pick_per_group(rng, burst_openers, platform[opens], platforms, event_code)
    after_login = np.flatnonzero((name[:-1] == event_code["login"]) & ~is_last[:-1]) + 1
    after_login = after_login[rng.random(len(after_login)) < identity_after_login_rate]
    name[after_login] = event_code["identity_set"]
    last = np.flatnonzero(is_last & ~is_first)
    closes = last[rng.random(len(last)) < closer_rate]
    name[closes] = pick_per_group(rng, burst_closers, platform[closes], platforms, event_code)

    for starter, (outcomes, shares) in followups.items():
        follower = np.flatnonzero((name[:-1] == event_code[starter]) & ~is_last[:-1]) + 1
        outcome_codes = np.array([event_code[o] for o in outcomes], np.int8)
        name[follower] = outcome_codes[weighted_pick(rng, np.array(shares), len(follower))]

    # A blur needs an event after its returning focus, so it is never among a burst's last two events.
    can_blur = ~is_first & ~is_last
    can_blur[:-1] &= ~is_last[1:]
    blur = np.flatnonzero(can_blur & (rng.random(len(name), np.float32) < blur_rate * bursts.gap_scale))
    blur = blur[np.diff(blur, prepend=-2) > 1]
    name[blur] = event_code["workspace_blur"]
    name[blur + 1] = event_code["workspace_focus"]
    return name, blur + 1


def _background_events(
    rng: np.random.Generator, dims: Dimensions, start_us: int, end_us: int, n: int
) -> dict[str, np.ndarray]:
    """System and tracker events spread over the whole period, mostly in the users' idle time."""
    user = rng.integers(0, len(dims.user_org), n)
    earliest = start_us + dims.user_reg_day[user] * day_us
    occurred = earliest + (rng.random(n) * (end_us - earliest)).astype(np.int64)
    weights = np.array([background_event_weights.get(e, 0.0) for e in event_names])
    name = weighted_codes(weights, rng.random(n))
    platform_options = {e: background_platforms.get(e, ("ide",)) for e in event_names}
    platform = pick_per_group(rng, platform_options, name, keys=event_names, values=platform_code)
    return {
        "user": user.astype(np.int32),
        "occurred": occurred,
        "name": name,
        "workspace": dims.user_ws[user, 0].astype(np.int32),
        "project": np.full(n, -1, np.int32),
        "platform": platform.astype(np.int8),
        "session": np.full(n, -1, np.int32),
    }


def _received_times(rng: np.random.Generator, occurred: np.ndarray, end_us: int) -> np.ndarray:
    """A few seconds of delivery latency; about 1% arrive 1-20 days late, but never after the period."""
    n = len(occurred)
    latency = np.minimum(0.2 * second_us + rng.exponential(1.5 * second_us, n), 60 * second_us)
    received = occurred + latency.astype(np.int64)
    can_be_late = occurred < end_us - day_us - minute_us
    late_rate = min(1.0, late_share * n / max(1, int(can_be_late.sum())))
    late = can_be_late & (rng.random(n) < late_rate)
    shortest = day_us + minute_us
    longest = np.minimum(max_late_days * day_us, end_us - 1 - occurred[late])
    received[late] = occurred[late] + shortest + (rng.random(int(late.sum())) * (longest - shortest)).astype(np.int64)
    return np.minimum(received, end_us - 1)


def duplicates(
    rng: np.random.Generator, pieces: list[dict[str, np.ndarray]], end_us: int
) -> dict[str, np.ndarray]:
    """Exact re-sends of existing events, received seconds to days after the original."""
    resendable = [np.flatnonzero(piece["received"] < end_us - minute_us) for piece in pieces]
    available = np.array([len(rows) for rows in resendable])
    n = sum(len(piece["n"]) for piece in pieces)
    count = min(int(available.sum()), max(min_duplicates, round(duplicate_share * n)))
    per_piece = rng.multivariate_hypergeometric(available, count)
    duplicates = concat([
        take(piece, np.sort(rng.choice(rows, k, replace=False)))
        for piece, rows, k in zip(pieces, resendable, per_piece)
    ])
    soon = (1 + rng.random(count) * 599) * second_us
    later = (1 + rng.random(count) * 71) * hour_us
    delay = np.where(rng.random(count) < 0.6, soon, later).astype(np.int64)
    duplicates["received"] = np.minimum(duplicates["received"] + delay, end_us - 1)
    return duplicates


def malformed(rng: np.random.Generator, pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Unusable copies of random events with fresh ids, one fault each, always sent as web JSON."""
    sizes = np.array([len(piece["n"]) for piece in pieces])
    count = max(min_malformed, round(malformed_share * sizes.sum()))
    per_piece = rng.multinomial(count, sizes / sizes.sum())
    malformed = concat([take(piece, rng.integers(0, len(piece["n"]), k)) for piece, k in zip(pieces, per_piece)])
    malformed["n"] = max(int(piece["n"].max(initial=-1)) for piece in pieces) + 1 + np.arange(count)
    malformed["fault"] = (1 + np.arange(count) % fault_kinds).astype(np.int8)
    malformed["platform"][:] = platform_code["web"]
    return malformed


def late_rows(piece: dict[str, np.ndarray]) -> int:
    valid_time = (piece["fault"] != fault_ts_text) & (piece["fault"] != fault_ts_date)
    return int(np.count_nonzero(valid_time & (piece["received"] - piece["occurred"] > day_us)))
