"""The short summary printed after a build: what was loaded and what sessions came out of it."""

from dataclasses import dataclass
from pathlib import Path

import duckdb


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
            ]
        )


def summarize(warehouse: Path) -> WarehouseSummary:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loads = dict(
            con.execute("select load_status, count(*) from staging.stg_landed_events group by all").fetchall()
        )
        sessions, users, median = con.execute(
            "select count(*), count(distinct user_id), median(duration_seconds) from marts.fct_sessions"
        ).fetchone()
    return WarehouseSummary(
        rows_read=sum(loads.values()),
        events_staged=loads.get("staged", 0),
        events_quarantined=loads.get("quarantined", 0),
        events_duplicate=loads.get("duplicate", 0),
        events_sampled_out=loads.get("sampled_out", 0),
        sessions=sessions,
        users=users,
        median_session_seconds=median,
    )
