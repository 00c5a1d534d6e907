"""The events the sample holds and how they behave. Event names and which of them count toward sessions come from
dbt's seed (seeds/event_catalog.csv), the one list of dwell's events; the rest says how often each name occurs, on
which platform, in what order, and with which properties."""

import csv

import numpy as np

from orchestration.settings import PROJECT_DIR

EVENT_CATALOG = PROJECT_DIR / "seeds" / "event_catalog.csv"


def _read_catalog() -> list[dict[str, str]]:
    with EVENT_CATALOG.open(newline="") as file:
        return list(csv.DictReader(file))


_catalog = _read_catalog()
# In the seed's order: an event's code is its row number, so reordering the seed changes the sample.
event_names = tuple(row["event_name"] for row in _catalog)
event_code = {name: code for code, name in enumerate(event_names)}
# Events that do not count toward sessions happen in the background (notifications, trackers, installs).
background_events = frozenset(row["event_name"] for row in _catalog if row["counts_toward_session"] == "false")

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

pages = (
    ("/dashboard", 20), ("/workspaces", 15), ("/workspaces/new", 4), ("/projects", 12), ("/factories", 3),
    ("/billing", 3), ("/settings", 4), ("/settings/profile", 3), ("/docs/getting-started", 6), ("/docs/cli", 3),
    ("/docs/tunnels", 2), ("/pricing", 3),
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


def name_mask(names: set[str]) -> np.ndarray:
    return np.array([e in names for e in event_names])


def _check_against_the_catalog() -> None:
    """Every name the tables below use is a catalog event, and every background event has a weight: a seed edit that
    drops or renames an event fails here, not deep inside the simulation."""
    named = set(background_event_weights) | set(background_platforms) | project_events | set(followups) | set(
        property_fields) | {name for weights in burst_event_weights.values() for name in weights} | {
        name for names in (*burst_openers.values(), *burst_closers.values()) for name in names} | {
        name for outcomes, _ in followups.values() for name in outcomes}
    unknown = sorted(named - set(event_names))
    if unknown:
        raise ValueError(f"{EVENT_CATALOG} lacks events the sample generator uses: {', '.join(unknown)}")
    if set(background_event_weights) != background_events or set(property_fields) != set(event_names):
        raise ValueError(f"the sample generator's background weights and properties must cover {EVENT_CATALOG}'s "
                         "events: every event has properties, every event that does not count a background weight")


_check_against_the_catalog()
