"""Deterministic generator of realistic raw product events, written in the landing-zone layout.

Every column is simulated as a numpy array of codes and indexes from one seeded generator; strings exist only
at write time, looked up or built per output file with pyarrow compute. That keeps ten million events to seconds.

Layout written into the landing directory:
    organizations.csv, users.csv, workspaces.parquet, workspace_members.csv
    events/received_date=YYYY-MM-DD/events.parquet          (non-web events)
    events/web/received_date=YYYY-MM-DD/events.jsonl.gz     (web events and all malformed rows)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gzip
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

millisecond_us = 1_000
second_us = 1_000_000
minute_us = 60 * second_us
hour_us = 60 * minute_us
day_us = 24 * hour_us

event_names = (
    "session_start", "session_end", "login", "logout", "workspace_focus", "workspace_blur",
    "ide_file_opened", "ide_file_saved", "ide_command_executed", "ide_search", "ide_refactor",
    "build_started", "build_succeeded", "build_failed", "debug_started", "debug_stopped", "breakpoint_hit",
    "deploy_started", "deploy_succeeded", "deploy_failed", "factory_created", "factory_launched",
    "invitation_sent", "invitation_accepted", "terminal_opened", "terminal_command", "tunnel_opened",
    "tunnel_closed", "app_opened", "app_action", "app_installed", "app_uninstalled", "page_view",
    "project_created", "project_opened", "workspace_created", "workspace_started", "workspace_stopped",
    "client_error", "notification_sent", "notification_clicked", "utm_visited", "identity_set",
    "identity_reset", "identity_error",
)
event_code = {name: code for code, name in enumerate(event_names)}

platforms = ("ide", "web", "desktop", "cli", "mobile")
platform_code = {name: code for code, name in enumerate(platforms)}
# The web share of bursts, plus web background events, makes the ~5% of rows that arrive as JSON.
platform_share = (0.57, 0.04, 0.20, 0.12, 0.07)
primary_platform_loyalty = 0.6
client_session_id_rate = {"ide": 0.6, "web": 0.7, "desktop": 0.5, "cli": 0.1, "mobile": 0.4}
client_session_reuse_rate = 0.2

# Relative weights of the events inside a burst, by the burst's platform.
burst_event_weights = {
    "ide": {
        "ide_file_opened": 20, "ide_file_saved": 18, "ide_command_executed": 12, "ide_search": 8,
        "ide_refactor": 3, "build_started": 5, "debug_started": 2, "breakpoint_hit": 3, "debug_stopped": 1,
        "deploy_started": 0.6, "terminal_opened": 2, "terminal_command": 8, "tunnel_opened": 0.8,
        "tunnel_closed": 0.6, "project_opened": 2, "project_created": 0.3, "workspace_started": 1,
        "workspace_stopped": 0.6, "workspace_created": 0.2, "factory_created": 0.2, "factory_launched": 0.3,
        "invitation_sent": 0.3, "client_error": 0.8,
    },
    "web": {
        "page_view": 45, "terminal_opened": 2, "terminal_command": 6, "invitation_sent": 1.5,
        "invitation_accepted": 1, "workspace_created": 1, "workspace_started": 2, "workspace_stopped": 1,
        "project_created": 1, "project_opened": 3, "factory_created": 0.5, "factory_launched": 1,
        "deploy_started": 1, "client_error": 1.5, "ide_file_opened": 3, "ide_file_saved": 3, "ide_search": 1,
    },
    "desktop": {
        "app_action": 30, "page_view": 12, "ide_file_opened": 8, "ide_file_saved": 6, "ide_command_executed": 4,
        "build_started": 3, "debug_started": 1, "breakpoint_hit": 1, "terminal_opened": 1, "terminal_command": 4,
        "project_opened": 2, "client_error": 1, "app_opened": 1,
    },
    "cli": {
        "terminal_command": 30, "build_started": 8, "deploy_started": 3, "tunnel_opened": 3, "tunnel_closed": 2,
        "workspace_started": 3, "workspace_stopped": 2, "project_created": 1, "factory_launched": 1,
        "client_error": 1,
    },
    "mobile": {
        "app_action": 30, "app_opened": 4, "notification_clicked": 3, "project_opened": 2, "client_error": 1,
        "invitation_accepted": 1,
    },
}
burst_openers = {
    "ide": ("session_start", "workspace_focus", "login", "workspace_started"),
    "web": ("login", "session_start", "page_view"),
    "desktop": ("app_opened", "login", "session_start"),
    "cli": ("login", "session_start"),
    "mobile": ("app_opened", "login"),
}
burst_closers = {
    "ide": ("session_end", "workspace_blur", "logout", "workspace_stopped"),
    "web": ("logout", "session_end", "workspace_blur"),
    "desktop": ("session_end", "logout", "workspace_blur"),
    "cli": ("logout", "session_end"),
    "mobile": ("session_end", "workspace_blur"),
}
opener_rate = 0.75
closer_rate = 0.4
identity_after_login_rate = 0.3
# The event right after a starter is replaced by one of its outcomes.
followups = {
    "build_started": (("build_succeeded", "build_failed"), (0.85, 0.15)),
    "deploy_started": (("deploy_succeeded", "deploy_failed"), (0.8, 0.2)),
    "debug_started": (("breakpoint_hit", "debug_stopped"), (0.6, 0.4)),
}
# Background events happen outside the user's own activity too (system notifications, trackers, installs).
background_share = 0.04
background_event_weights = {
    "notification_sent": 35, "notification_clicked": 12, "utm_visited": 12, "identity_set": 20,
    "identity_reset": 8, "identity_error": 5, "app_installed": 5, "app_uninstalled": 3,
}
background_platforms = {
    "notification_sent": ("web", "mobile", "desktop"), "notification_clicked": ("web", "mobile", "desktop"),
    "utm_visited": ("web",), "identity_set": ("web", "ide"), "identity_reset": ("web", "ide"),
    "identity_error": ("web", "ide"), "app_installed": ("desktop", "mobile"),
    "app_uninstalled": ("desktop", "mobile"),
}
project_events = {
    "ide_file_opened", "ide_file_saved", "ide_command_executed", "ide_search", "ide_refactor", "build_started",
    "build_succeeded", "build_failed", "debug_started", "debug_stopped", "breakpoint_hit", "deploy_started",
    "deploy_succeeded", "deploy_failed", "terminal_opened", "terminal_command", "tunnel_opened", "tunnel_closed",
    "project_created", "project_opened",
}

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

anonymous_user_share = 0.03
users_per_organization = 12
new_user_share = 0.12
plans = ("free", "team", "enterprise")
plan_share = (0.5, 0.35, 0.15)
admin_member_share = 0.15
workspace_pick_share = (0.5, 0.3, 0.2)  # a user works in 1, 2 or 3 workspaces
timezones = (
    ("-08:00", -480, 0.14), ("-05:00", -300, 0.16), ("-03:00", -180, 0.05), ("+00:00", 0, 0.10),
    ("+01:00", 60, 0.20), ("+02:00", 120, 0.10), ("+05:30", 330, 0.10), ("+08:00", 480, 0.07),
    ("+09:00", 540, 0.05), ("+10:00", 600, 0.03),
)
pages = (
    ("/dashboard", 20), ("/workspaces", 15), ("/workspaces/new", 4), ("/projects", 12), ("/factories", 3),
    ("/billing", 3), ("/settings", 4), ("/settings/profile", 3), ("/docs/getting-started", 6), ("/docs/cli", 3),
    ("/docs/tunnels", 2), ("/pricing", 3),
)
company_stems = (
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Stark", "Wayne",
    "Tyrell", "Cyberdyne", "Aperture", "Massive", "Oscorp", "Wonka", "Gringotts", "Monarch", "Dunder", "Pied",
)
company_kinds = ("Labs", "Systems", "Software", "Analytics", "Cloud", "Robotics", "Works", "Digital")
domain_suffixes = (".com", ".io", ".dev", ".co")
first_names = (
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Guido", "Anita", "James",
    "Radia", "Tim", "Hedy", "Donald", "Katherine", "Edsger", "Sophie", "John", "Karen", "Niklaus", "Lynn",
    "Bjarne", "Shafi", "Leslie", "Mary", "Yukihiro", "Rasmus", "Carol", "Brian", "Joan", "Ivan", "Priya",
    "Wei", "Fatima", "Diego", "Amara", "Kenji", "Elena",
)
last_names = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen", "Rossum",
    "Borg", "Gosling", "Perlman", "Berners-Lee", "Lamarr", "Knuth", "Johnson", "Dijkstra", "Wilson", "McCarthy",
    "Jones", "Wirth", "Conway", "Stroustrup", "Goldwasser", "Lamport", "Keller", "Matsumoto", "Lerdorf", "Shaw",
    "Kernighan", "Clarke", "Sutherland", "Patel", "Zhang", "Haddad", "Garcia", "Okafor", "Tanaka", "Petrova",
)
workspace_teams = (
    "Backend", "Frontend", "Data Platform", "Mobile", "Infra", "ML Research", "Docs", "Payments", "Growth",
    "Security", "Sandbox", "QA",
)

file_exts = ('"py"', '"ts"', '"tsx"', '"go"', '"java"', '"rs"', '"sql"', '"md"', '"yaml"')
languages = ('"python"', '"typescript"', '"go"', '"java"', '"rust"')
environments = ('"staging"', '"production"', '"preview"')
templates = ('"python-api"', '"nextjs"', '"go-service"', '"data-notebook"', '"java-spring"')
app_versions = ('"3.8.0"', '"3.9.1"', '"3.10.0"')
channels = ('"email"', '"push"', '"in_app"')
# Per event name: an optional integer field (key, low, high; log-uniform) and an optional
# categorical field (key, raw JSON values), written in that order.
property_fields = {
    "session_start": (None, ("client_version", ('"1.41.2"', '"1.42.0"', '"1.43.1"'))),
    "session_end": (("duration_ms", 60_000, 14_400_000), None),
    "login": (None, ("method", ('"password"', '"sso"', '"github"', '"google"'))),
    "logout": (None, None),
    "workspace_focus": (None, None),
    "workspace_blur": (None, None),
    "ide_file_opened": (("size_bytes", 100, 500_000), ("file_ext", file_exts)),
    "ide_file_saved": (("duration_ms", 1, 2_000), ("file_ext", file_exts)),
    "ide_command_executed": (None, ("command", (
        '"format_document"', '"go_to_definition"', '"rename_symbol"', '"toggle_terminal"', '"git_commit"',
        '"run_tests"'))),
    "ide_search": (("result_count", 1, 500), ("scope", ('"file"', '"workspace"', '"symbols"'))),
    "ide_refactor": (None, ("kind", ('"rename"', '"extract_method"', '"inline_variable"', '"move_file"'))),
    "build_started": (None, ("target", ('"debug"', '"release"', '"test"'))),
    "build_succeeded": (("duration_ms", 2_000, 600_000), ("target", ('"debug"', '"release"', '"test"'))),
    "build_failed": (("duration_ms", 1_000, 300_000), ("error_code", (
        '"E0308"', '"TS2345"', '"MODULE_NOT_FOUND"', '"OOM"'))),
    "debug_started": (None, ("language", languages)),
    "debug_stopped": (("duration_ms", 5_000, 3_600_000), None),
    "breakpoint_hit": (("line", 1, 3_000), ("file_ext", file_exts)),
    "deploy_started": (None, ("environment", environments)),
    "deploy_succeeded": (("duration_ms", 20_000, 900_000), ("environment", environments)),
    "deploy_failed": (("duration_ms", 5_000, 600_000), ("environment", environments)),
    "factory_created": (None, ("template", templates)),
    "factory_launched": (("duration_ms", 5_000, 180_000), ("template", templates)),
    "invitation_sent": (None, ("role", ('"developer"', '"admin"'))),
    "invitation_accepted": (None, ("role", ('"developer"', '"admin"'))),
    "terminal_opened": (None, ("shell", ('"bash"', '"zsh"', '"fish"', '"pwsh"'))),
    "terminal_command": (None, ("command", (
        '"git"', '"npm"', '"pytest"', '"make"', '"docker"', '"ls"', '"cargo"'))),
    "tunnel_opened": (None, ("port", ("3000", "5432", "8080", "8888", "5173", "22"))),
    "tunnel_closed": (("duration_ms", 10_000, 7_200_000), None),
    "app_opened": (None, ("app_version", app_versions)),
    "app_action": (None, ("action", (
        '"open_workspace"', '"switch_project"', '"view_logs"', '"share_link"', '"toggle_theme"'))),
    "app_installed": (None, ("app_version", app_versions)),
    "app_uninstalled": (None, None),
    "page_view": (("load_ms", 80, 5_000), ("referrer", ('"direct"', '"google"', '"docs"', '"email"', '"github"'))),
    "project_created": (None, ("language", languages)),
    "project_opened": (None, None),
    "workspace_created": (None, ("template", templates)),
    "workspace_started": (("boot_ms", 800, 120_000), ("machine", ('"small"', '"medium"', '"large"'))),
    "workspace_stopped": (("uptime_ms", 60_000, 28_800_000), None),
    "client_error": (None, ("error_code", (
        '"NETWORK_TIMEOUT"', '"HTTP_500"', '"WS_DISCONNECTED"', '"UNCAUGHT_EXCEPTION"'))),
    "notification_sent": (None, ("channel", channels)),
    "notification_clicked": (None, ("channel", channels)),
    "utm_visited": (None, ("utm_source", ('"google"', '"newsletter"', '"twitter"', '"partner"', '"conference"'))),
    "identity_set": (None, None),
    "identity_reset": (None, None),
    "identity_error": (None, ("reason", ('"cookie_blocked"', '"token_expired"', '"mismatch"'))),
}

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


@dataclasses.dataclass(frozen=True)
class SampleSummary:
    landing_dir: Path
    events_written: int
    malformed_rows: int
    duplicate_rows: int
    late_rows: int
    users: int
    workspaces: int
    organizations: int
    files: list[Path]


@dataclasses.dataclass
class _Dimensions:
    """Index-based dimensions; user arrays cover known and anonymous users alike."""

    org_name: list[str]
    org_domain: list[str]
    org_plan: np.ndarray
    org_created: np.ndarray
    user_org: np.ndarray
    user_known: np.ndarray
    user_new: np.ndarray  # registers during the sampled period
    user_reg_day: np.ndarray  # first day index the user may be active
    user_registered: np.ndarray
    user_tz: np.ndarray
    user_first: np.ndarray
    user_last: np.ndarray
    user_ws: np.ndarray  # (users, 3) workspace indexes, -1 padded
    user_ws_count: np.ndarray
    ws_org: np.ndarray
    ws_owner: np.ndarray
    ws_created: np.ndarray
    ws_name: list[str]
    project_first: np.ndarray
    project_count: np.ndarray
    member_ws: np.ndarray
    member_user: np.ndarray
    member_admin: np.ndarray
    member_invited: np.ndarray


def generate_sample(
    landing_dir: Path | str,
    *,
    users: int = 200,
    days: int = 30,
    seed: int = 42,
    start_date: datetime.date = datetime.date(2026, 10, 1),
    events: int | None = None,
) -> SampleSummary:
    """Write a complete sample into landing_dir, replacing any sample already there."""
    if users < 1 or days < 1:
        raise ValueError("users and days must be at least 1")
    if events is not None and events < 1:
        raise ValueError("events must be at least 1")
    rng = np.random.default_rng(seed)
    start_us = int(datetime.datetime.combine(start_date, datetime.time(), datetime.UTC).timestamp()) * second_us
    end_us = start_us + days * day_us

    dims = _build_dimensions(rng, users, days, start_us)
    pieces = _simulate_events(rng, dims, days, start_us, start_date.weekday(), events)
    duplicates = _duplicates(rng, pieces, end_us)
    malformed = _malformed(rng, pieces)
    pieces += [duplicates, malformed]
    _register_new_users(rng, dims, pieces, start_us)

    landing = Path(landing_dir)
    landing.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=landing))
    try:
        _write_dimensions(dims, staging)
        _write_events(rng, pieces, dims, seed, start_us, days, staging)
        files = _replace_sample(staging, landing)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SampleSummary(
        landing_dir=landing,
        events_written=sum(len(piece["n"]) for piece in pieces),
        malformed_rows=len(malformed["n"]),
        duplicate_rows=len(duplicates["n"]),
        late_rows=sum(_late_rows(piece) for piece in pieces),
        users=users,
        workspaces=len(dims.ws_org),
        organizations=len(dims.org_name),
        files=files,
    )


# ---------------------------------------------------------------------------------------------- dimensions


def _build_dimensions(rng: np.random.Generator, n_users: int, days: int, start_us: int) -> _Dimensions:
    n_orgs = min(n_users, max(3, round(n_users / users_per_organization)))
    n_anonymous = max(1, round(n_users * anonymous_user_share / (1 - anonymous_user_share)))
    total = n_users + n_anonymous

    # The first n_orgs users found their organization, so every organization has a known, early member.
    org_weight = rng.pareto(1.5, n_orgs) + 1
    user_org = np.concatenate([np.arange(n_orgs), rng.choice(n_orgs, total - n_orgs, p=org_weight / org_weight.sum())])
    user_known = np.ones(total, bool)
    user_known[rng.choice(np.arange(n_orgs, total), n_anonymous, replace=False)] = False
    founder = np.arange(total) < n_orgs
    user_new = user_known & ~founder & (rng.random(total) < new_user_share)
    user_reg_day = np.where(user_new, rng.integers(0, days, total), 0)

    org_created = start_us - ((200 + 800 * rng.random(n_orgs)) * day_us).astype(np.int64)
    since_org = start_us - org_created[user_org]
    user_registered = org_created[user_org] + (rng.random(total) * 0.95 * since_org).astype(np.int64)
    user_registered[founder] = org_created + (rng.random(n_orgs) * 2 * day_us).astype(np.int64)

    org_name, org_domain = _company_names(rng, n_orgs)
    org_plan = rng.choice(len(plans), n_orgs, p=plan_share)
    tz_share = np.array([share for _, _, share in timezones])
    user_tz = rng.choice(len(timezones), total, p=tz_share / tz_share.sum())
    user_first = rng.integers(0, len(first_names), total)
    user_last = rng.integers(0, len(last_names), total)

    # Workspaces are owned by distinct known users who registered before the period.
    can_own = user_known & ~user_new
    owners_per_org = np.bincount(user_org[can_own], minlength=n_orgs)
    ws_per_org = 1 + owners_per_org // 5
    ws_first = np.cumsum(ws_per_org) - ws_per_org
    candidates = np.flatnonzero(can_own)
    candidates = candidates[np.lexsort((rng.random(len(candidates)), user_org[candidates]))]
    cand_org = user_org[candidates]
    rank = np.arange(len(candidates)) - np.searchsorted(cand_org, cand_org)
    owning = rank < ws_per_org[cand_org]
    ws_owner = np.empty(ws_per_org.sum(), np.int64)
    ws_owner[ws_first[cand_org[owning]] + rank[owning]] = candidates[owning]
    owned_rank = np.full(total, -1)
    owned_rank[candidates[owning]] = rank[owning]
    ws_org = user_org[ws_owner]
    ws_created = user_registered[ws_owner] + (
        rng.random(len(ws_owner)) * 0.8 * (start_us - user_registered[ws_owner])).astype(np.int64)
    ws_rank = np.arange(len(ws_owner)) - ws_first[ws_org]
    teams = len(workspace_teams)
    ws_name = [workspace_teams[r % teams] + (f" {r // teams + 1}" if r >= teams else "") for r in ws_rank]
    project_count = np.minimum(1 + rng.poisson(2.0, len(ws_owner)), 8)
    project_first = np.cumsum(project_count) - project_count

    # Each user picks 1-3 consecutive workspaces of their organization, starting at the one they own.
    org_ws = ws_per_org[user_org]
    user_ws_count = np.minimum(rng.choice(3, total, p=workspace_pick_share) + 1, org_ws)
    first_pick = np.where(owned_rank >= 0, owned_rank, (rng.random(total) * org_ws).astype(np.int64))
    slot = np.arange(3)
    user_ws = ws_first[user_org][:, None] + (first_pick[:, None] + slot) % org_ws[:, None]
    user_ws = np.where(slot < user_ws_count[:, None], user_ws, -1)

    member_user, member_slot = np.nonzero((user_ws >= 0) & user_known[:, None])
    member_ws = user_ws[member_user, member_slot]
    owns = ws_owner[member_ws] == member_user
    member_admin = owns | (rng.random(len(member_ws)) < admin_member_share)
    joined = np.maximum(ws_created[member_ws], user_registered[member_user])
    member_invited = np.where(
        owns, ws_created[member_ws], joined + (rng.random(len(member_ws)) * 0.5 * (start_us - joined)).astype(np.int64))

    return _Dimensions(
        org_name=org_name, org_domain=org_domain, org_plan=org_plan, org_created=org_created,
        user_org=user_org, user_known=user_known, user_new=user_new, user_reg_day=user_reg_day,
        user_registered=user_registered, user_tz=user_tz, user_first=user_first, user_last=user_last,
        user_ws=user_ws, user_ws_count=user_ws_count, ws_org=ws_org, ws_owner=ws_owner, ws_created=ws_created,
        ws_name=ws_name, project_first=project_first, project_count=project_count, member_ws=member_ws,
        member_user=member_user, member_admin=member_admin, member_invited=member_invited,
    )


def _company_names(rng: np.random.Generator, n_orgs: int) -> tuple[list[str], list[str]]:
    combos = rng.permutation(len(company_stems) * len(company_kinds))
    names, domains = [], []
    for i in range(n_orgs):
        combo = combos[i % len(combos)]
        stem, kind = company_stems[combo // len(company_kinds)], company_kinds[combo % len(company_kinds)]
        repeat = f" {i // len(combos) + 1}" if i >= len(combos) else ""
        names.append(f"{stem} {kind}{repeat}")
        domains.append(f"{stem}{kind}{repeat.strip()}".lower() + domain_suffixes[combo % len(domain_suffixes)])
    return names, domains


def _register_new_users(
    rng: np.random.Generator, dims: _Dimensions, pieces: list[dict[str, np.ndarray]], start_us: int
) -> None:
    """Users who sign up during the period register (and are invited) shortly before their first event."""
    never = np.iinfo(np.int64).max
    first_seen = np.full(len(dims.user_org), never)
    for piece in pieces:
        of_new = dims.user_new[piece["user"]]
        np.minimum.at(first_seen, piece["user"][of_new], piece["occurred"][of_new])
    new = np.flatnonzero(dims.user_new)
    lead = ((1 + 19 * rng.random(len(new))) * minute_us).astype(np.int64)
    planned = start_us + dims.user_reg_day[new] * day_us + (rng.random(len(new)) * day_us).astype(np.int64)
    dims.user_registered[new] = np.where(first_seen[new] < never, first_seen[new] - lead, planned)
    invited_new = np.flatnonzero(dims.user_new[dims.member_user])
    lead = ((10 + rng.random(len(invited_new)) * 2 * 24 * 60) * minute_us).astype(np.int64)
    dims.member_invited[invited_new] = np.maximum(
        dims.ws_created[dims.member_ws[invited_new]] + minute_us,
        dims.user_registered[dims.member_user[invited_new]] - lead,
    )


# ---------------------------------------------------------------------------------------------- events


def _simulate_events(
    rng: np.random.Generator, dims: _Dimensions, days: int, start_us: int, start_weekday: int, target: int | None
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
    piece["project"] = np.where(_name_mask(project_events)[code], piece["project"], -1).astype(np.int32)
    page_view = np.flatnonzero(code == event_code["page_view"])
    piece["page"] = np.full(len(code), -1, np.int8)
    piece["page"][page_view] = _weighted_pick(rng, np.array([w for _, w in pages], float), len(page_view))
    # Turned into property values per output file (see _properties).
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
    rng: np.random.Generator, dims: _Dimensions, days: int, start_us: int, start_weekday: int,
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
    name[opens] = _pick_per_group(rng, burst_openers, platform[opens])
    after_login = np.flatnonzero((name[:-1] == event_code["login"]) & ~is_last[:-1]) + 1
    after_login = after_login[rng.random(len(after_login)) < identity_after_login_rate]
    name[after_login] = event_code["identity_set"]
    last = np.flatnonzero(is_last & ~is_first)
    closes = last[rng.random(len(last)) < closer_rate]
    name[closes] = _pick_per_group(rng, burst_closers, platform[closes])

    for starter, (outcomes, shares) in followups.items():
        follower = np.flatnonzero((name[:-1] == event_code[starter]) & ~is_last[:-1]) + 1
        outcome_codes = np.array([event_code[o] for o in outcomes], np.int8)
        name[follower] = outcome_codes[_weighted_pick(rng, np.array(shares), len(follower))]

    # A blur needs an event after its returning focus, so it is never among a burst's last two events.
    can_blur = ~is_first & ~is_last
    can_blur[:-1] &= ~is_last[1:]
    blur = np.flatnonzero(can_blur & (rng.random(len(name), np.float32) < blur_rate * bursts.gap_scale))
    blur = blur[np.diff(blur, prepend=-2) > 1]
    name[blur] = event_code["workspace_blur"]
    name[blur + 1] = event_code["workspace_focus"]
    return name, blur + 1


def _background_events(
    rng: np.random.Generator, dims: _Dimensions, start_us: int, end_us: int, n: int
) -> dict[str, np.ndarray]:
    """System and tracker events spread over the whole period, mostly in the users' idle time."""
    user = rng.integers(0, len(dims.user_org), n)
    earliest = start_us + dims.user_reg_day[user] * day_us
    occurred = earliest + (rng.random(n) * (end_us - earliest)).astype(np.int64)
    weights = np.array([background_event_weights.get(e, 0.0) for e in event_names])
    name = _weighted_codes(weights, rng.random(n))
    platform_options = {e: background_platforms.get(e, ("ide",)) for e in event_names}
    platform = _pick_per_group(rng, platform_options, name, keys=event_names, values=platform_code)
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


def _duplicates(
    rng: np.random.Generator, pieces: list[dict[str, np.ndarray]], end_us: int
) -> dict[str, np.ndarray]:
    """Exact re-sends of existing events, received seconds to days after the original."""
    resendable = [np.flatnonzero(piece["received"] < end_us - minute_us) for piece in pieces]
    available = np.array([len(rows) for rows in resendable])
    n = sum(len(piece["n"]) for piece in pieces)
    count = min(int(available.sum()), max(min_duplicates, round(duplicate_share * n)))
    per_piece = rng.multivariate_hypergeometric(available, count)
    duplicates = _concat([
        _take(piece, np.sort(rng.choice(rows, k, replace=False)))
        for piece, rows, k in zip(pieces, resendable, per_piece)
    ])
    soon = (1 + rng.random(count) * 599) * second_us
    later = (1 + rng.random(count) * 71) * hour_us
    delay = np.where(rng.random(count) < 0.6, soon, later).astype(np.int64)
    duplicates["received"] = np.minimum(duplicates["received"] + delay, end_us - 1)
    return duplicates


def _malformed(rng: np.random.Generator, pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Unusable copies of random events with fresh ids, one fault each, always sent as web JSON."""
    sizes = np.array([len(piece["n"]) for piece in pieces])
    count = max(min_malformed, round(malformed_share * sizes.sum()))
    per_piece = rng.multinomial(count, sizes / sizes.sum())
    malformed = _concat([_take(piece, rng.integers(0, len(piece["n"]), k)) for piece, k in zip(pieces, per_piece)])
    malformed["n"] = max(int(piece["n"].max(initial=-1)) for piece in pieces) + 1 + np.arange(count)
    malformed["fault"] = (1 + np.arange(count) % fault_kinds).astype(np.int8)
    malformed["platform"][:] = platform_code["web"]
    return malformed


def _late_rows(piece: dict[str, np.ndarray]) -> int:
    valid_time = (piece["fault"] != fault_ts_text) & (piece["fault"] != fault_ts_date)
    return int(np.count_nonzero(valid_time & (piece["received"] - piece["occurred"] > day_us)))


# ---------------------------------------------------------------------------------------------- array helpers


def _weighted_codes(weights: np.ndarray, draw: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights) / weights.sum()
    return np.minimum(np.searchsorted(cumulative, draw, side="right"), len(weights) - 1).astype(np.int8)


def _weighted_pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    return _weighted_codes(weights, rng.random(n))


def _pick_per_group(
    rng: np.random.Generator, options: dict[str, tuple[str, ...]], group: np.ndarray,
    keys: tuple[str, ...] = platforms, values: dict[str, int] = event_code,
) -> np.ndarray:
    """Uniform choice among options[keys[g]] for each row's group g, as codes from values."""
    width = max(len(o) for o in options.values())
    table = np.zeros((len(keys), width), np.int8)
    lengths = np.zeros(len(keys), np.int64)
    for i, key in enumerate(keys):
        table[i, : len(options[key])] = [values[o] for o in options[key]]
        lengths[i] = len(options[key])
    group = group.astype(np.int64)
    return table[group, (rng.random(len(group)) * lengths[group]).astype(np.int64)]


def _take(piece: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {key: values[rows] for key, values in piece.items()}


def _concat(pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}


def _name_mask(names: set[str]) -> np.ndarray:
    return np.array([e in names for e in event_names])


# ---------------------------------------------------------------------------------------------- writing


def _iso_z(us: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(us.astype("datetime64[us]").astype("datetime64[s]")), "Z")


def _write_dimensions(dims: _Dimensions, out: Path) -> None:
    n_orgs = len(dims.org_name)
    org_ids = _ids("org", 4, n_orgs)
    pd.DataFrame({
        "organization_id": org_ids,
        "name": dims.org_name,
        "domain": dims.org_domain,
        "plan": np.array(plans)[dims.org_plan],
        "created_at": _iso_z(dims.org_created),
    }).to_csv(out / "organizations.csv", index=False)

    known = np.flatnonzero(dims.user_known)
    first = np.array(first_names)[dims.user_first[known]]
    last = np.array(last_names)[dims.user_last[known]]
    domain = np.array(dims.org_domain)[dims.user_org[known]]
    local = np.char.lower(np.char.add(np.char.add(first, "."), np.char.replace(last, "-", "")))
    # Namesakes at one company get a numeric suffix, as mail systems do.
    address = pd.Series(np.char.add(np.char.add(local, "@"), domain))
    repeat = address.groupby(address).cumcount().to_numpy()
    local = np.where(repeat > 0, np.char.add(local, (repeat + 1).astype(str)), local)
    pd.DataFrame({
        "user_id": _ids("usr", 6, len(dims.user_org))[known],
        "email": np.char.add(np.char.add(local, "@"), domain),
        "first_name": first,
        "last_name": last,
        "company": np.array(dims.org_name)[dims.user_org[known]],
        "organization_id": org_ids[dims.user_org[known]],
        "registered_at": _iso_z(dims.user_registered[known]),
    }).to_csv(out / "users.csv", index=False)

    ws_ids = _ids("ws", 5, len(dims.ws_org))
    pq.write_table(pa.table({
        "workspace_id": ws_ids,
        "name": dims.ws_name,
        "organization_id": org_ids[dims.ws_org],
        "owner_user_id": _ids("usr", 6, len(dims.user_org))[dims.ws_owner],
        "created_at": pa.array(dims.ws_created, pa.timestamp("us", tz="UTC")),
    }), out / "workspaces.parquet")

    order = np.lexsort((dims.member_user, dims.member_ws))
    pd.DataFrame({
        "workspace_id": ws_ids[dims.member_ws[order]],
        "user_id": _ids("usr", 6, len(dims.user_org))[dims.member_user[order]],
        "role": np.where(dims.member_admin[order], "admin", "developer"),
        "invited_at": _iso_z(dims.member_invited[order]),
    }).to_csv(out / "workspace_members.csv", index=False)


def _ids(prefix: str, width: int, n: int) -> np.ndarray:
    return np.char.add(f"{prefix}_", np.char.zfill(np.arange(1, n + 1).astype(str), width))


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


def _vocabulary(dims: _Dimensions, seed: int, sessions: int) -> _Vocabulary:
    properties, first, levels, options = _property_texts()
    # An odd multiplier is a bijection modulo 2**48: unique, random-looking client session ids.
    mixed = (np.arange(sessions, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)) & np.uint64(
        2**48 - 1)
    return _Vocabulary(
        seed=seed,
        user_ids=pa.array(_ids("usr", 6, len(dims.user_org))),
        org_ids=pa.array(_ids("org", 4, len(dims.org_name))),
        ws_ids=pa.array(_ids("ws", 5, len(dims.ws_org))),
        project_ids=pa.array(_ids("prj", 6, int(dims.project_count.sum()))),
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


def _write_events(
    rng: np.random.Generator, pieces: list[dict[str, np.ndarray]], dims: _Dimensions, seed: int, start_us: int,
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
        part = _concat([
            _take(piece, order[bounds[key] : bounds[key + 1]]) for piece, (order, bounds) in zip(pieces, layouts)
        ])
        part = _take(part, np.argsort(part["received"], kind="stable"))
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


def _event_ids(n: np.ndarray, seed: int) -> pa.Array:
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
        "event_id": _event_ids(part["n"], vocabulary.seed),
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
        _json_field("event_id", _quoted(_event_ids(part["n"], vocabulary.seed)), fault != fault_id_absent),
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


def _replace_sample(staging: Path, landing: Path) -> list[Path]:
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


# ---------------------------------------------------------------------------------------------- command line


def _count(text: str) -> int:
    """An event count such as 250000, 500k, 10M or 1.5M."""
    multipliers = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
    suffix = text[-1:].lower()
    if suffix in multipliers:
        return round(float(text[:-1]) * multipliers[suffix])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.sample_data", description=__doc__.splitlines()[0])
    parser.add_argument("--landing-dir", required=True, type=Path)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start-date", type=datetime.date.fromisoformat, default=datetime.date(2026, 10, 1))
    parser.add_argument("--events", type=_count, default=None, help="approximate total, e.g. 500k or 10M")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    summary = generate_sample(
        args.landing_dir, users=args.users, days=args.days, seed=args.seed, start_date=args.start_date,
        events=args.events,
    )
    print(
        f"wrote {summary.events_written:,} events ({summary.malformed_rows:,} malformed, "
        f"{summary.duplicate_rows:,} duplicates, {summary.late_rows:,} late) for {summary.users:,} users, "
        f"{summary.workspaces:,} workspaces, {summary.organizations:,} organizations in {len(summary.files)} files "
        f"to {summary.landing_dir} in {time.perf_counter() - began:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
