"""The same sessionization rules as dwell's models, written the way users would write them without dwell: one
plain DuckDB query, pandas, and polars; plus a DuckDB scan and a sort of the same data as lower bounds; and a DuckDB
script that writes the same two session tables as dwell's models.

The minimal methods read the counted events (event_id, partition columns, event_name, occurred_at) from one Parquet
file and write one row per event, (event_id, first_event_id): the first event of the event's session. Events
are ordered by occurred_at then event_id within a partition; a session starts at the partition's first event,
at a restart event, after an end event, or after a gap strictly greater than the timeout, and is then cut into
pieces of at most the maximum length measured from that start (README "Sessionization rules").

The DuckDB script reads what dwell's session models read, the staged events, the event catalog, the users and the
engagement tiers, from the warehouse, and writes marts.fct_session_events and marts.fct_sessions with the same
columns, types and rows into a database file of its own.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import duckdb

DUCKDB_QUERY = "DuckDB query"
PANDAS = "pandas"
POLARS = "polars"
SCAN = "DuckDB scan (bound)"
SORT = "DuckDB sort (bound)"
COPY = "DuckDB copy of the session tables (bound)"
SESSION_TABLES_SCRIPT = "DuckDB script, same session tables"
SESSION_TABLES = ("marts.fct_session_events", "marts.fct_sessions")
# fct_sessions' per-category event counts, in its column order.
COUNTED_CATEGORIES = ("ide", "build", "debug", "deploy", "error")


@dataclasses.dataclass(frozen=True)
class Rules:
    timeout_us: int
    restart_events: tuple[str, ...]
    end_events: tuple[str, ...]
    max_length_us: int | None
    partition_by: tuple[str, ...]


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_string(value) for value in values) + ")" if values else "(null)"


def duckdb_connection(memory_limit: str | None, spill_dir: Path,
                      database: Path | None = None) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(database) if database else ":memory:")
    connection.execute(f"set temp_directory = {sql_string(str(spill_dir))}")
    if memory_limit:
        connection.execute(f"set memory_limit = {sql_string(memory_limit)}")
    return connection


def session_window(rules: Rules, events: str, session_columns: str) -> str:
    """CTEs over `events` (event_id, event_name, occurred_at, the partition columns and any others), ending in
    in_sessions: every event with session_columns, window expressions `over session`, the window of the event's
    session. Three window passes: the neighbouring event, running over the partition, and over each session, which
    the maximum length cuts at offsets only the running pass knows. Each caller asks for only the columns it writes:
    DuckDB computes every expression of a window pass, used or not."""
    partition = ", ".join(rules.partition_by)
    piece = "" if rules.max_length_us is None else f", (occurred_us - activity_start_us) // {rules.max_length_us}"
    return f"""
        timed as (
            select *, epoch_us(occurred_at) as occurred_us from {events}
        ),
        flagged as (
            select
                *,
                case
                    when lag(occurred_us) over ordered is null then 'first_event'
                    when event_name in {sql_list(rules.restart_events)} then 'restart_event'
                    when lag(event_name) over ordered in {sql_list(rules.end_events)} then 'after_end_event'
                    when occurred_us - lag(occurred_us) over ordered > {rules.timeout_us} then 'inactivity'
                end as activity_start_reason
            from timed
            window ordered as (partition by {partition} order by occurred_at, event_id)
        ),
        activities as (
            select
                *,
                count(activity_start_reason) over running as activity_number,
                max(case when activity_start_reason is not null then occurred_us end) over running as activity_start_us
            from flagged
            window running as (partition by {partition} order by occurred_at, event_id
                               rows between unbounded preceding and current row)
        ),
        in_sessions as (
            select *, {session_columns}
            from activities
            window session as (partition by {partition}, activity_number{piece} order by occurred_at, event_id)
        )
    """


def duckdb_query(rules: Rules, events: Path, output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """One window query: the engine's own speed, the floor dwell's models are measured against."""
    query = f"""
        with {session_window(rules, f"read_parquet({sql_string(str(events))})",
                             "first_value(event_id) over session as first_event_id")}
        select event_id, first_event_id from in_sessions
    """
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(f"copy ({query}) to {sql_string(str(output))} (format parquet)")


def pandas_sessions(rules: Rules, events: Path, output: Path) -> None:
    """What users write by hand: sort, shift, cumulative sums."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(events)
    frame["occurred_us"] = frame["occurred_at"].astype("datetime64[us]").astype("int64")
    frame = frame.sort_values([*rules.partition_by, "occurred_us", "event_id"], ignore_index=True)
    new_partition = np.zeros(len(frame), dtype=bool)
    if len(frame):
        new_partition[0] = True
    for column in rules.partition_by:
        values = frame[column].fillna("\x00").to_numpy()
        new_partition[1:] |= values[1:] != values[:-1]
    occurred_us = frame["occurred_us"].to_numpy()
    gap_us = np.diff(occurred_us, prepend=occurred_us[:1])
    previous_name = frame["event_name"].shift()
    starts_activity = (
        new_partition
        | frame["event_name"].isin(rules.restart_events).to_numpy()
        | previous_name.isin(rules.end_events).to_numpy()
        | (gap_us > rules.timeout_us)
    )
    activity_start_us = pd.Series(np.where(starts_activity, occurred_us, np.nan)).ffill().to_numpy("int64")
    if rules.max_length_us is None:
        starts_session = starts_activity
    else:
        piece = (occurred_us - activity_start_us) // rules.max_length_us
        starts_session = starts_activity | (np.diff(piece, prepend=piece[:1]) != 0)
    first_event_id = frame["event_id"].where(starts_session).ffill()
    pd.DataFrame({"event_id": frame["event_id"], "first_event_id": first_event_id}).to_parquet(output, index=False)


def polars_sessions(rules: Rules, events: Path, output: Path) -> None:
    """The fastest dataframe library, written as its users would: lazy expressions over one sort."""
    import polars as pl

    occurred_us = pl.col("occurred_at").dt.epoch("us")
    same_partition = pl.all_horizontal(
        [pl.col(column).fill_null("\x00") == pl.col(column).fill_null("\x00").shift() for column in rules.partition_by]
    ).fill_null(False)
    starts_activity = (
        ~same_partition
        | pl.col("event_name").is_in(list(rules.restart_events))
        | pl.col("event_name").shift().is_in(list(rules.end_events)).fill_null(False)
        | ((pl.col("occurred_us") - pl.col("occurred_us").shift()) > rules.timeout_us).fill_null(False)
    )
    frame = (
        pl.scan_parquet(events)
        .with_columns(occurred_us=occurred_us)
        .sort([*rules.partition_by, "occurred_us", "event_id"])
        .with_columns(starts_activity=starts_activity)
        .with_columns(
            activity_start_us=pl.when(pl.col("starts_activity")).then(pl.col("occurred_us")).forward_fill()
        )
    )
    if rules.max_length_us is None:
        frame = frame.with_columns(starts_session=pl.col("starts_activity"))
    else:
        piece = (pl.col("occurred_us") - pl.col("activity_start_us")) // rules.max_length_us
        frame = frame.with_columns(piece=piece).with_columns(
            starts_session=pl.col("starts_activity") | (pl.col("piece") != pl.col("piece").shift()).fill_null(True)
        )
    (
        frame.select(
            "event_id",
            first_event_id=pl.when(pl.col("starts_session")).then(pl.col("event_id")).forward_fill(),
        ).sink_parquet(output)
    )


def duckdb_scan(events: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """Reading every column once: no method can be faster."""
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(
            "select count(*), max(event_id), max(event_name), max(occurred_at)"
            f" from read_parquet({sql_string(str(events))})"
        ).fetchall()


def duckdb_sort(rules: Rules, events: Path, output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """The one sort every method needs, written out: sessionization is this plus a few passes."""
    partition = ", ".join(rules.partition_by)
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(
            f"copy (select * from read_parquet({sql_string(str(events))}) order by {partition}, occurred_at, event_id)"
            f" to {sql_string(str(output))} (format parquet)"
        )


def duckdb_copy(warehouse: Path, tables: list[str], output: Path, memory_limit: str | None, spill_dir: Path) -> None:
    """The tables dwell's session models write, copied as they are into a new database: what writing their rows
    costs at all, before any sessionizing."""
    with duckdb_connection(memory_limit, spill_dir) as connection:
        connection.execute(f"attach {sql_string(str(warehouse))} as source (read_only)")
        connection.execute(f"attach {sql_string(str(output))} as copied")
        for table in tables:
            schema, name = table.split(".")
            connection.execute(f'create schema if not exists copied."{schema}"')
            connection.execute(f'create table copied."{schema}"."{name}" as select * from source."{schema}"."{name}"')


def duckdb_session_tables(rules: Rules, warehouse: Path, output: Path, memory_limit: str | None,
                          spill_dir: Path) -> None:
    """What a user without dwell writes for dwell's two session tables: one statement per table, the sessions
    grouped from the events just written, as dwell's fct_sessions is. Session ids are md5 hashes of the partition's
    columns and the first event's id, as dwell's are, so the rows can be compared."""
    # Attached under its file's name: the warehouse's views name their tables with it.
    staging = f'"{warehouse.stem}".staging'
    partition = ", ".join(rules.partition_by)
    session_id = "md5(concat_ws('|', " + ", ".join(
        [*(f"coalesce({column}, '')" for column in rules.partition_by), "first_event_id"]) + "))"
    # A partition column is the same on every event of a session; the others are their first value sent.
    first_sent = "".join(f"arg_min({column}, event_number_in_session) filter (where {column} is not null) as {column},"
                         for column in ("workspace_id", "organization_id") if column not in rules.partition_by)
    category_counts = "".join(f"count(*) filter (where category = '{category}') as {category}_event_count,"
                              for category in COUNTED_CATEGORIES)
    session_columns = """
        row_number() over session as event_number_in_session,
        first_value(event_id) over session as first_event_id,
        first_value(occurred_at) over session as session_start_at,
        first_value(occurred_us) over session as session_start_us,
        first_value(coalesce(activity_start_reason, 'max_length')) over session as session_start_reason,
        lag(occurred_us) over session as previous_in_session_us,
        lead(event_id) over session is null as is_last_event_in_session
    """
    events_table = f"""
        create table marts.fct_session_events as
        with counted_events as (
            select
                events.event_id, events.user_id, events.organization_id, events.workspace_id, events.project_id,
                events.event_name, coalesce(catalog.category, 'other') as category, events.platform, events.page,
                events.occurred_at
            from {staging}.stg_events as events
            left join {staging}.event_catalog as catalog on events.event_name = catalog.event_name
            -- Names missing from the catalog count toward sessions.
            where coalesce(catalog.counts_toward_session, true)
        ),
        {session_window(rules, "counted_events", session_columns)}
        select
            event_id, {session_id} as session_id, user_id, organization_id, workspace_id, project_id, event_name,
            category, platform, page, occurred_at, event_number_in_session,
            (occurred_us - previous_in_session_us) / 1e6 as seconds_since_previous_event,
            (occurred_us - session_start_us) / 1e6 as seconds_since_session_start,
            session_start_at, session_start_reason, is_last_event_in_session,
            cast(session_start_at as date) as session_date
        from in_sessions
    """
    sessions_table = f"""
        create table marts.fct_sessions as
        with grouped as (
            select
                session_id, {partition},
                arg_min(event_id, event_number_in_session) as first_event_id,
                min(occurred_at) as session_start_at,
                max(occurred_at) as session_end_at,
                count(*) as event_count,
                any_value(session_start_reason) as start_reason,
                arg_max(event_name, event_number_in_session) as last_event_name,
                {first_sent}
                {category_counts}
                count(*) filter (where category = 'page') as page_view_count,
                count(distinct page) as distinct_page_count
            from marts.fct_session_events
            group by session_id, {partition}
        ),
        -- The newest staged event, counted or not: a session that ended less than the timeout before it may go on.
        newest as (
            select epoch_us(max(occurred_at)) as newest_us from {staging}.stg_events
        ),
        ended as (
            select
                grouped.*,
                case
                    when last_event_name in {sql_list(rules.end_events)} then 'end_event'
                    when lead(start_reason) over following in ('restart_event', 'inactivity', 'max_length')
                        then lead(start_reason) over following
                    when newest_us - epoch_us(session_end_at) > {rules.timeout_us} then 'inactivity'
                    else 'open'
                end as end_reason,
                (epoch_us(session_end_at) - epoch_us(session_start_at)) / 1e6 as duration_seconds
            from grouped
            cross join newest
            window following as (partition by {partition} order by session_start_at, first_event_id)
        )
        select
            ended.session_id, ended.user_id, coalesce(ended.organization_id, users.organization_id) as organization_id,
            ended.workspace_id, ended.session_start_at, ended.session_end_at, ended.duration_seconds,
            ended.event_count,
            row_number() over (partition by ended.user_id order by ended.session_start_at, ended.first_event_id)
                as session_number,
            ended.start_reason, ended.end_reason, ended.end_reason <> 'open' as is_concluded,
            cast(ended.session_start_at as date) as session_date, ended.first_event_id,
            {"".join(f"ended.{category}_event_count, " for category in COUNTED_CATEGORIES)}
            ended.page_view_count, ended.distinct_page_count, tiers.tier as engagement_tier, tiers.is_bounce
        from ended
        left join {staging}.stg_users as users on ended.user_id = users.user_id
        left join {staging}.engagement_tiers as tiers
            on ended.duration_seconds >= tiers.lower_bound_seconds
            and (tiers.upper_bound_seconds is null or ended.duration_seconds < tiers.upper_bound_seconds)
    """
    with duckdb_connection(memory_limit, spill_dir, database=output) as connection:
        connection.execute(f"attach {sql_string(str(warehouse))} (read_only)")
        connection.execute("create schema marts")
        connection.execute(events_table)
        connection.execute(sessions_table)


def main(spec: dict) -> None:
    """A child process of bench/harness.py: run one method, print its wall seconds as JSON (imports excluded)."""
    rules = Rules(**{**spec["rules"], **{key: tuple(spec["rules"][key])
                                         for key in ("restart_events", "end_events", "partition_by")}})
    events, output, spill, memory_limit = (Path(spec["events"]), Path(spec["output"]), Path(spec["spill"]),
                                           spec["memory_limit"])
    methods = {
        DUCKDB_QUERY: lambda: duckdb_query(rules, events, output, memory_limit, spill),
        PANDAS: lambda: pandas_sessions(rules, events, output),
        POLARS: lambda: polars_sessions(rules, events, output),
        SCAN: lambda: duckdb_scan(events, memory_limit, spill),
        SORT: lambda: duckdb_sort(rules, events, output, memory_limit, spill),
        COPY: lambda: duckdb_copy(Path(spec["warehouse"]), spec["tables"], output, memory_limit, spill),
        SESSION_TABLES_SCRIPT: lambda: duckdb_session_tables(rules, Path(spec["warehouse"]), output, memory_limit,
                                                             spill),
    }
    began = time.perf_counter()
    methods[spec["method"]]()
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_rss_bytes": peak_rss_bytes()}))


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it started its program (Linux VmHWM; exec resets it, unlike
    getrusage, which would count the memory of the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
