"""The short summary printed after a build: what was loaded and what sessions came out of it, and a warning about
the files under events/ that the event reader does not take."""

from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import landing, settings

# Files not taken that the warning names; it counts them all.
LISTED_FILES = 5


@dataclass(frozen=True)
class WarehouseSummary:
    rows_read: int
    events_staged: int
    events_quarantined: int
    events_duplicate: int
    events_sampled_out: int
    sessions: int
    users: int
    median_session_seconds: float | None
    files_not_taken: tuple[str, ...] = ()

    def render(self) -> str:
        median = "n/a" if self.median_session_seconds is None else f"{self.median_session_seconds / 60:.1f} min"
        # Only a warehouse built with sampling_rate below 1 has sampled-out events (README "Sampling").
        sampled_out = [f"  sampled out         {self.events_sampled_out:>12,}"] if self.events_sampled_out else []
        return "\n".join(
            [
                "dwell warehouse summary",
                f"  rows read           {self.rows_read:>12,}",
                f"  events staged       {self.events_staged:>12,}",
                f"  events quarantined  {self.events_quarantined:>12,}",
                f"  duplicate events    {self.events_duplicate:>12,}",
                *sampled_out,
                f"  sessions            {self.sessions:>12,}",
                f"  users               {self.users:>12,}",
                f"  median session      {median:>12}",
                *self._not_taken_warning(),
            ]
        )

    def _not_taken_warning(self) -> list[str]:
        if not self.files_not_taken:
            return []
        count = len(self.files_not_taken)
        more = count - LISTED_FILES
        return [
            f"warning: {count:,} file{'s' if count > 1 else ''} under events/ "
            f"{'are' if count > 1 else 'is'} not read: not an event file name (README \"Event files\")",
            *(f"  {path}" for path in self.files_not_taken[:LISTED_FILES]),
            *([f"  ... and {more:,} more"] if more > 0 else []),
            "  every one, with its reason: select * from marts.rpt_load_files where status = 'not_taken'",
        ]


def summarize(warehouse: Path) -> WarehouseSummary:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loads = dict(
            con.execute("select load_status, count(*) from staging.stg_landed_events group by all").fetchall()
        )
        sessions, users, median = con.execute(
            "select count(*), count(distinct user_id), median(duration_seconds) from marts.fct_sessions"
        ).fetchone()
    # From the landing directory as it is now: a file renamed or removed since stops the warning.
    landing_dir = settings.landing_dir()
    not_taken = tuple(str(path.relative_to(landing_dir)) for path in landing.files_not_taken(landing_dir))
    return WarehouseSummary(
        rows_read=sum(loads.values()),
        events_staged=loads.get("staged", 0),
        events_quarantined=loads.get("quarantined", 0),
        events_duplicate=loads.get("duplicate", 0),
        events_sampled_out=loads.get("sampled_out", 0),
        sessions=sessions,
        users=users,
        median_session_seconds=median,
        files_not_taken=not_taken,
    )
