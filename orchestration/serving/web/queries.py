"""The API's answers, read from one publication of the serving copy (a Reader). Every value a caller gives is a bound
parameter; the SQL text is made only of the fixed fragments below. Every query is scoped: an organization token's
organization is a WHERE on organization_id, joined through users or workspaces where a mart lacks the column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from orchestration.serving.web.params import (
    ApiError,
    bad_request,
    buckets,
    check_order,
    check_range,
    decode_cursor,
    encode_cursor,
    not_found,
)
from orchestration.serving.web.snapshot import Reader


@dataclass(frozen=True)
class Scope:
    """Which organization a request sees: None for every one (an admin token without `org`). `empty` when an
    organization token asked for another organization: it then sees nothing."""

    organization_id: str | None
    empty: bool = False

    @classmethod
    def of(cls, token_organization: str | None, admin: bool, requested: str | None) -> Scope:
        if admin:
            return cls(requested)
        return cls(token_organization, empty=requested is not None and requested != token_organization)

    def where(self, column: str, parameters: dict, name: str = "scope_org") -> list[str]:
        """The WHERE fragments that keep this scope's rows of `column` (an organization_id)."""
        if self.empty:
            return ["false"]
        if self.organization_id is None:
            return []
        parameters[name] = self.organization_id
        return [f"{column} = ${name}"]


def _page(rows: list[dict], limit: int, cursor_of) -> tuple[list[dict], str | None]:
    """A page of a keyset-paginated query that asked for limit + 1 rows: the first `limit`, and the cursor of the
    next page (`cursor_of` the page's last row), or None when no row is left."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(cursor_of(rows[-1]))


def _where(conditions: list[str]) -> str:
    return ("where " + "\n    and ".join(conditions)) if conditions else ""


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    return value.isoformat()


def _jsonable(row: dict) -> dict:
    return {key: (_iso(value) if isinstance(value, (datetime, date)) else value) for key, value in row.items()}


# --- Activity: Coder's /api/private/metrics/activity ------------------------------------------------------------

@dataclass(frozen=True)
class RawJson:
    """An answer DuckDB encoded itself: sent as it is."""

    encoded: bytes


def activity(reader: Reader, scope: Scope, start: date, end: date, step: int, unit: str, category: str) -> RawJson:
    """Coder's activity report over fct_user_activity_daily, with dwell_activity_report's definition: buckets from
    params.buckets, activity counted whole in the bucket of its activity_date, durations summed in whole
    microseconds (dwell_sum_seconds) and answered in nanoseconds. Users' id and username are dwell's user_id (it has
    no other handle), name is first and last name, roles are the user's workspace roles (fct_workspace_memberships)
    in the scope's organizations. DuckDB writes the JSON itself: for every user of a month that is several MB, and
    building it in Python took most of the time."""
    if category not in reader.snapshot.facts["categories"]:
        raise bad_request(f"category must be one of: {', '.join(reader.snapshot.facts['categories'])}, "
                          f"got: {category!r}"[:400])
    edges = buckets(start, end, step, unit)
    parameters = {"category": category, "start": start, "end": end,
                  "starts": [edge[0] for edge in edges], "ends": [edge[1] for edge in edges]}
    conditions = ["category = $category", "activity_date >= $start", "activity_date < $end",
                  *scope.where("organization_id", parameters)]
    membership_scope = scope.where("memberships.organization_id", parameters)
    encoded = reader.tuples(f"""
        with dwell_buckets as (
            select unnest($starts::date[]) as bucket_start, unnest($ends::date[]) as bucket_end
        ),

        dwell_activity as (
            select user_id, activity_date, active_seconds, event_count
            from marts.fct_user_activity_daily
            {_where(conditions)}
        ),

        by_bucket as (
            select
                dwell_buckets.bucket_start,
                dwell_activity.user_id,
                cast(sum(round(dwell_activity.active_seconds * 1000000)) as bigint) as active_us,
                cast(sum(dwell_activity.event_count) as bigint) as event_count
            from dwell_activity
            inner join dwell_buckets
                on dwell_activity.activity_date >= dwell_buckets.bucket_start
                and dwell_activity.activity_date < dwell_buckets.bucket_end
            group by all
        ),

        intervals as (
            select
                dwell_buckets.bucket_start,
                json_object(
                    'time', strftime(dwell_buckets.bucket_start, '%Y-%m-%d') || 'T00:00:00Z',
                    'duration', cast(dwell_buckets.bucket_end - dwell_buckets.bucket_start as bigint) * 86400000000000,
                    'user_activity', coalesce(
                        to_json(list(json_object('user_id', by_bucket.user_id,
                                                 'duration', by_bucket.active_us * 1000,
                                                 'count', by_bucket.event_count)
                                     order by by_bucket.user_id) filter (where by_bucket.user_id is not null)),
                        '[]'::json)
                ) as interval_json
            from dwell_buckets
            left join by_bucket on by_bucket.bucket_start = dwell_buckets.bucket_start
            group by dwell_buckets.bucket_start, dwell_buckets.bucket_end
        ),

        totals as (
            select user_id, sum(active_us) as active_us, sum(event_count) as event_count
            from by_bucket
            group by user_id
        ),

        roles as (
            select memberships.user_id, list(distinct memberships.role order by memberships.role) as roles
            from marts.fct_workspace_memberships as memberships
            {_where(["memberships.user_id in (select user_id from totals)", *membership_scope])}
            group by memberships.user_id
        ),

        users as (
            select to_json(map(list(totals.user_id order by totals.user_id), list(json_object(
                    'id', totals.user_id,
                    'name', nullif(trim(concat_ws(' ', dim_users.first_name, dim_users.last_name)), ''),
                    'username', totals.user_id,
                    'roles', coalesce(roles.roles, []::varchar[]),
                    'total_count', totals.event_count,
                    'total_duration', totals.active_us * 1000
                ) order by totals.user_id))) as users_json
            from totals
            left join marts.dim_users on dim_users.user_id = totals.user_id
            left join roles on roles.user_id = totals.user_id
        )

        select cast(json_object(
            'activity', (select coalesce(to_json(list(interval_json order by bucket_start)), '[]'::json) from intervals),
            'users', (select coalesce(users_json, '{{}}'::json) from users)
        ) as varchar)
    """, parameters)[0][0]
    return RawJson(encoded.encode())


# --- Session duration ---------------------------------------------------------------------------------------------

def session_duration(reader: Reader, scope: Scope, start: date, end: date) -> dict:
    """Per user, the mean duration in seconds of the sessions that start on a UTC day from start to end, both
    included (fct_sessions.session_date), summed in whole microseconds as the marts sum."""
    parameters = {"start": start, "end": end}
    conditions = ["session_date >= $start", "session_date <= $end", *scope.where("organization_id", parameters)]
    rows = reader.tuples(f"""
        select user_id, sum(round(duration_seconds * 1000000)) / 1000000.0 / count(*) as average_duration
        from marts.fct_sessions
        {_where(conditions)}
        group by user_id
        order by user_id
    """, parameters)
    return {"results": [{"user_id": user_id, "average_duration": average} for user_id, average in rows]}


# --- Sessions -----------------------------------------------------------------------------------------------------

SESSION_COLUMNS = """session_id, user_id, organization_id, workspace_id, session_start_at, session_end_at,
    duration_seconds, event_count, session_number, start_reason, end_reason, is_concluded, session_date,
    engagement_tier, is_bounce, page_view_count, error_event_count"""


def sessions(reader: Reader, scope: Scope, *, user_id: str | None, workspace_id: str | None, start: datetime | None,
             end: datetime | None, limit: int, cursor: str | None) -> dict:
    """Sessions, newest start first, by pages: next_cursor holds the last row's (session_start_at, session_id)."""
    check_order(start, end)
    after = decode_cursor(cursor, (str, str))
    parameters: dict = {"limit": limit + 1}
    conditions = scope.where("organization_id", parameters)
    if user_id is not None:
        conditions.append("user_id = $user_id")
        parameters["user_id"] = user_id
    if workspace_id is not None:
        conditions.append("workspace_id = $workspace_id")
        parameters["workspace_id"] = workspace_id
    if start is not None:
        conditions.append("session_start_at >= $start")
        parameters["start"] = start
    if end is not None:
        conditions.append("session_start_at < $end")
        parameters["end"] = end
    if after is not None:
        try:
            parameters["after_at"] = datetime.fromisoformat(after[0])
        except ValueError:
            raise bad_request("cursor is not one this API gave: pass next_cursor from a previous page as it is") from None
        parameters["after_id"] = after[1]
        conditions.append("(session_start_at < $after_at or (session_start_at = $after_at and session_id < $after_id))")
    rows = reader.rows(f"""
        select {SESSION_COLUMNS}
        from marts.fct_sessions
        {_where(conditions)}
        order by session_start_at desc, session_id desc
        limit $limit
    """, parameters)
    rows, next_cursor = _page(rows, limit, lambda last: [last["session_start_at"].isoformat(), last["session_id"]])
    return {"sessions": [_jsonable(row) for row in rows], "next_cursor": next_cursor}


def session(reader: Reader, scope: Scope, session_id: str) -> dict:
    """One session with its events, workspace sessions, focus periods (micro-sessions), metrics and alerts. Another
    organization's session is not found."""
    parameters: dict = {"session_id": session_id}
    found = reader.one(f"""
        select {SESSION_COLUMNS}, first_event_id, ide_event_count, build_event_count, debug_event_count,
            deploy_event_count, distinct_page_count
        from marts.fct_sessions
        {_where(["session_id = $session_id", *scope.where("organization_id", parameters)])}
    """, parameters)
    if found is None:
        raise not_found(f"session {session_id!r}")
    # session_date first: the marts are stored by day, so it skips every other day's row groups.
    keys = {"session_id": session_id, "session_date": found["session_date"]}
    narrow = "where session_date = $session_date and session_id = $session_id"
    events = reader.rows(f"""
        select event_id, event_number_in_session, occurred_at, event_name, category, workspace_id, project_id,
            platform, page, seconds_since_previous_event, seconds_since_session_start, is_last_event_in_session
        from marts.fct_session_events
        {narrow}
        order by event_number_in_session
    """, keys)
    micro = reader.rows(f"""
        select micro_session_id, workspace_session_id, workspace_id, micro_session_number, started_at, ended_at,
            focused_seconds, cumulative_focused_seconds, session_elapsed_seconds, ended_by, event_count
        from marts.fct_micro_sessions
        {narrow}
        order by started_at, micro_session_number, micro_session_id
    """, keys)
    workspace_sessions = reader.rows(f"""
        select workspace_session_id, workspace_id, workspace_name, started_at, ended_at, duration_seconds,
            event_count, start_reason, end_reason, micro_session_count, focused_seconds, away_seconds
        from marts.fct_workspace_sessions
        {narrow}
        order by started_at, workspace_session_id
    """, keys)
    metrics = reader.tuples(f"""
        select metric_name, metric_value from marts.fct_session_metrics {narrow} order by metric_name
    """, keys)
    alerts = reader.rows("""
        select alert_id, rule, comparison, threshold_seconds, duration_seconds, rule_description
        from marts.fct_session_alerts
        where session_id = $session_id and user_id = $user_id
        order by rule
    """, {"session_id": session_id, "user_id": found["user_id"]})
    return {"session": _jsonable(found), "events": [_jsonable(row) for row in events],
            "workspace_sessions": [_jsonable(row) for row in workspace_sessions],
            "micro_sessions": [_jsonable(row) for row in micro],
            "metrics": {name: value for name, value in metrics},
            "alerts": [_jsonable(row) for row in alerts]}


# --- Users ----------------------------------------------------------------------------------------------------------

USER_COLUMNS = """user_id, email, email_domain, first_name, last_name, company, organization_id, registered_at,
    first_seen_at, last_seen_at, event_count, session_count, total_session_seconds, usage_minutes, project_count,
    workspace_count, active_workspace_count, first_activity_at, last_activity_at"""


def users(reader: Reader, scope: Scope, *, email: str | None, name: str | None, company: str | None,
          email_domain: str | None, workspace_id: str | None, limit: int, cursor: str | None) -> dict:
    """Users by user_id. email and name match a part, case-insensitively; company and email_domain match whole,
    case-insensitively; workspace_id keeps its members."""
    after = decode_cursor(cursor, (str,))
    parameters: dict = {"limit": limit + 1}
    conditions = scope.where("organization_id", parameters)
    if email is not None:
        conditions.append("contains(lower(email), lower($email))")
        parameters["email"] = email
    if name is not None:
        conditions.append("contains(lower(concat_ws(' ', first_name, last_name)), lower($name))")
        parameters["name"] = name
    if company is not None:
        conditions.append("lower(company) = lower($company)")
        parameters["company"] = company
    if email_domain is not None:
        conditions.append("lower(email_domain) = lower($email_domain)")
        parameters["email_domain"] = email_domain
    if workspace_id is not None:
        member_scope = scope.where("organization_id", parameters)
        conditions.append("user_id in (select user_id from marts.fct_workspace_memberships "
                          f"{_where(['workspace_id = $workspace_id', *member_scope])})")
        parameters["workspace_id"] = workspace_id
    if after is not None:
        conditions.append("user_id > $after")
        parameters["after"] = after[0]
    rows = reader.rows(f"""
        select {USER_COLUMNS}
        from marts.dim_users
        {_where(conditions)}
        order by user_id
        limit $limit
    """, parameters)
    rows, next_cursor = _page(rows, limit, lambda last: [last["user_id"]])
    return {"users": [_jsonable(row) for row in rows], "next_cursor": next_cursor}


def user(reader: Reader, scope: Scope, user_id: str) -> dict:
    parameters: dict = {"user_id": user_id}
    found = reader.one(f"""
        select {USER_COLUMNS} from marts.dim_users
        {_where(["user_id = $user_id", *scope.where("organization_id", parameters)])}
    """, parameters)
    if found is None:
        raise not_found(f"user {user_id!r}")
    workspaces = reader.rows(f"""
        select memberships.workspace_id, workspaces.workspace_name, memberships.role, memberships.is_owner,
            memberships.invited_at
        from marts.fct_workspace_memberships as memberships
        left join marts.dim_workspaces as workspaces on workspaces.workspace_id = memberships.workspace_id
        {_where(["memberships.user_id = $user_id", *scope.where("memberships.organization_id", parameters)])}
        order by memberships.workspace_id
    """, parameters)
    return {"user": _jsonable(found), "workspaces": [_jsonable(row) for row in workspaces]}


# --- Workspaces ---------------------------------------------------------------------------------------------------

WORKSPACE_COLUMNS = """workspace_id, workspace_name, organization_id, owner_user_id, created_at, member_count,
    admin_count, first_seen_at, last_seen_at, event_count, active_user_count, session_count, total_session_seconds,
    usage_minutes, active_project_count, build_count, debug_count, deploy_count, factory_count, last_activity_at"""


def workspaces(reader: Reader, scope: Scope, *, name: str | None, owner_user_id: str | None, limit: int,
               cursor: str | None) -> dict:
    after = decode_cursor(cursor, (str,))
    parameters: dict = {"limit": limit + 1}
    conditions = scope.where("organization_id", parameters)
    if name is not None:
        conditions.append("contains(lower(workspace_name), lower($name))")
        parameters["name"] = name
    if owner_user_id is not None:
        conditions.append("owner_user_id = $owner_user_id")
        parameters["owner_user_id"] = owner_user_id
    if after is not None:
        conditions.append("workspace_id > $after")
        parameters["after"] = after[0]
    rows = reader.rows(f"""
        select {WORKSPACE_COLUMNS}
        from marts.dim_workspaces
        {_where(conditions)}
        order by workspace_id
        limit $limit
    """, parameters)
    rows, next_cursor = _page(rows, limit, lambda last: [last["workspace_id"]])
    return {"workspaces": [_jsonable(row) for row in rows], "next_cursor": next_cursor}


def workspace(reader: Reader, scope: Scope, workspace_id: str) -> dict:
    """A workspace's summary: its row, its members, and its workspace sessions per UTC day."""
    parameters: dict = {"workspace_id": workspace_id}
    found = reader.one(f"""
        select {WORKSPACE_COLUMNS} from marts.dim_workspaces
        {_where(["workspace_id = $workspace_id", *scope.where("organization_id", parameters)])}
    """, parameters)
    if found is None:
        raise not_found(f"workspace {workspace_id!r}")
    members = reader.rows("""
        select memberships.user_id, users.email, users.first_name, users.last_name, memberships.role,
            memberships.is_owner, memberships.is_invited, memberships.invited_at
        from marts.fct_workspace_memberships as memberships
        left join marts.dim_users as users on users.user_id = memberships.user_id
        where memberships.workspace_id = $workspace_id
        order by memberships.is_owner desc, memberships.user_id
    """, {"workspace_id": workspace_id})
    daily = reader.rows("""
        select session_date as day, count(*) as workspace_session_count, count(distinct user_id) as active_users,
            sum(round(duration_seconds * 1000000)) / 1000000.0 as duration_seconds,
            sum(round(focused_seconds * 1000000)) / 1000000.0 as focused_seconds,
            cast(sum(event_count) as bigint) as event_count
        from marts.fct_workspace_sessions
        where workspace_id = $workspace_id
        group by session_date
        order by session_date
    """, {"workspace_id": workspace_id})
    return {"workspace": _jsonable(found), "members": [_jsonable(row) for row in members],
            "daily": [_jsonable(row) for row in daily]}


# --- Organizations ------------------------------------------------------------------------------------------------

def organizations(reader: Reader, scope: Scope) -> dict:
    parameters: dict = {}
    rows = reader.rows(f"""
        with known as (
            select organization_id from marts.dim_users where organization_id is not null
            union select organization_id from marts.dim_workspaces where organization_id is not null
        )
        select known.organization_id,
            (select count(*) from marts.dim_users where dim_users.organization_id = known.organization_id)
                as user_count,
            (select count(*) from marts.dim_workspaces where dim_workspaces.organization_id = known.organization_id)
                as workspace_count
        from known
        {_where(scope.where("known.organization_id", parameters))}
        order by 1
    """, parameters)
    return {"organizations": rows}


# --- Period reports -------------------------------------------------------------------------------------------------

REPORT_MEASURES = ["active_user_count", "session_count", "usage_minutes", "event_count", "build_count",
                   "debug_count", "deploy_count", "factory_count", "invitation_count"]


def period_report(reader: Reader, scope: Scope, *, grain: str, start: date | None, end: date | None,
                  email: str | None, company: str | None, email_domain: str | None) -> dict:
    """The period report (models/exposures.yml period_report): rpt_period_summary when nothing narrows it; filtered
    by an organization, email, company or email domain, the sums of rpt_user_period_activity over the matching users,
    where workspace_count is the chosen organization's, user_account_count the matching users', and the active
    workspace and project counts are summed per user (a workspace two users used counts twice)."""
    check_order(start, end)
    check_range(start, end)
    parameters: dict = {"grain": grain}
    period_conditions = ["grain = $grain"]
    if grain != "lifetime":
        if start is not None:
            period_conditions.append("period_start >= $start")
            parameters["start"] = start
        if end is not None:
            period_conditions.append("period_start < $end")
            parameters["end"] = end
    filtered = scope.organization_id is not None or scope.empty or any(
        value is not None for value in (email, company, email_domain))
    if not filtered:
        rows = reader.rows(f"""
            select grain, period_start, period_end, time_zone, workspace_count, active_workspace_count,
                user_account_count, active_user_count, session_count, usage_minutes, event_count, build_count,
                debug_count, deploy_count, factory_count, invitation_count, active_project_count
            from marts.rpt_period_summary
            {_where(period_conditions)}
            order by period_start
        """, parameters)
        return {"grain": grain, "filtered": False, "periods": [_jsonable(row) for row in rows]}

    user_conditions = scope.where("organization_id", parameters)
    if email is not None:
        user_conditions.append("contains(lower(email), lower($email))")
        parameters["email"] = email
    if company is not None:
        user_conditions.append("lower(company) = lower($company)")
        parameters["company"] = company
    if email_domain is not None:
        user_conditions.append("lower(email_domain) = lower($email_domain)")
        parameters["email_domain"] = email_domain
    workspace_count = "cast(null as bigint)"
    if scope.organization_id is not None and not scope.empty:
        workspace_count = """(select count(*) from marts.dim_workspaces as workspaces
                where workspaces.organization_id = $scope_org
                and (periods.period_end_at is null
                    or coalesce(workspaces.created_at, workspaces.first_seen_at) < periods.period_end_at))"""
    rows = reader.rows(f"""
        with matching_users as (
            select user_id, registered_at, first_seen_at from marts.dim_users {_where(user_conditions)}
        ),

        periods as (
            select grain, period_start, min(period_end) as period_end, min(time_zone) as time_zone,
                -- The period's end in UTC, as rpt_period_summary compares it (dwell_local_to_utc).
                case when min(time_zone) = 'UTC' or min(period_end) is null then cast(min(period_end) as timestamp)
                    else timezone('UTC', timezone(min(time_zone), cast(min(period_end) as timestamp)))
                end as period_end_at,
                count(*) as active_user_count,
                cast(sum(session_count) as bigint) as session_count,
                sum(round(usage_seconds * 1000000)) / 1000000.0 / 60.0 as usage_minutes,
                cast(sum(event_count) as bigint) as event_count,
                cast(sum(active_workspace_count) as bigint) as active_workspace_count,
                cast(sum(active_project_count) as bigint) as active_project_count,
                cast(sum(build_count) as bigint) as build_count,
                cast(sum(debug_count) as bigint) as debug_count,
                cast(sum(deploy_count) as bigint) as deploy_count,
                cast(sum(factory_count) as bigint) as factory_count,
                cast(sum(invitation_count) as bigint) as invitation_count
            from marts.rpt_user_period_activity
            {_where([*period_conditions, "user_id in (select user_id from matching_users)"])}
            group by grain, period_start
        )

        select grain, period_start, period_end, time_zone,
            {workspace_count} as workspace_count,
            active_workspace_count,
            (select count(*) from matching_users
                where periods.period_end_at is null
                    or coalesce(matching_users.registered_at, matching_users.first_seen_at) < periods.period_end_at
            ) as user_account_count,
            active_user_count, session_count, usage_minutes, event_count, build_count, debug_count, deploy_count,
            factory_count, invitation_count, active_project_count
        from periods
        order by period_start
    """, parameters)
    return {"grain": grain, "filtered": True, "periods": [_jsonable(row) for row in rows]}


# --- Session board --------------------------------------------------------------------------------------------------

def board_range(reader: Reader, scope: Scope, start: date | None, end: date | None) -> tuple[date, date]:
    """The board's [start, end) days: as given, else the 30 days up to the newest session in scope."""
    if start is not None and end is not None:
        return start, end
    parameters: dict = {}
    newest = reader.tuples(f"""
        select max(session_date) from marts.fct_sessions {_where(scope.where("organization_id", parameters))}
    """, parameters)[0][0] or date.today()
    if end is None:
        end = newest + timedelta(days=1) if start is None or start <= newest else start + timedelta(days=30)
    if start is None:
        start = end - timedelta(days=30)
    return start, end


def board(reader: Reader, scope: Scope, start: date | None, end: date | None) -> dict:
    """The session board (models/exposures.yml session_board) for [start, end): sessions per day with mean, median,
    p90 and active users (rpt_daily_sessions), the length distribution (rpt_session_length_distribution), alerts,
    start and end reasons, engagement tiers. For an organization they are computed from fct_sessions with the same
    definitions (whole-microsecond sums, quantile_cont rounded to 1e-8)."""
    check_order(start, end)
    check_range(start, end)
    start, end = board_range(reader, scope, start, end)
    check_order(start, end)
    check_range(start, end)
    parameters: dict = {"start": start, "end": end}
    session_conditions = ["session_date >= $start", "session_date < $end", *scope.where("organization_id", parameters)]
    if scope.organization_id is None and not scope.empty:
        days = reader.rows("""
            select day, session_count, total_duration_seconds, mean_duration_seconds, median_duration_seconds,
                p90_duration_seconds, active_users
            from marts.rpt_daily_sessions
            where day >= $start and day < $end
            order by day
        """, parameters)
        distribution = reader.rows("""
            select bucket_number, bucket_label, min(lower_seconds) as lower_seconds,
                min(upper_seconds) as upper_seconds, cast(sum(session_count) as bigint) as session_count
            from marts.rpt_session_length_distribution
            where day >= $start and day < $end
            group by bucket_number, bucket_label
            order by bucket_number
        """, parameters)
    else:
        days = daily_sessions(reader, session_conditions, parameters)
        distribution = length_distribution(reader, session_conditions, parameters)
    alert_conditions = ["sessions.session_date >= $start", "sessions.session_date < $end",
                        *scope.where("sessions.organization_id", parameters)]
    alerts = reader.rows(f"""
        select alerts.alert_id, alerts.session_id, alerts.user_id, alerts.workspace_id, alerts.session_start_at,
            alerts.duration_seconds, alerts.rule, alerts.rule_description
        from marts.fct_session_alerts as alerts
        inner join marts.fct_sessions as sessions on sessions.session_id = alerts.session_id
        {_where(alert_conditions)}
        order by alerts.session_start_at desc, alerts.alert_id
        limit 50
    """, parameters)
    breakdown = {}
    for column in ("start_reason", "end_reason", "engagement_tier"):
        breakdown[column] = {value: count for value, count in reader.tuples(f"""
            select {column}, count(*) from marts.fct_sessions {_where(session_conditions)}
            group by 1 order by 2 desc, 1
        """, parameters)}
    totals = reader.one(f"""
        select count(*) as session_count, count(distinct user_id) as active_users,
            coalesce(sum(round(duration_seconds * 1000000)), 0) / 1000000.0 as total_duration_seconds,
            round(quantile_cont(duration_seconds, 0.5) * 100000000) / 100000000.0 as median_duration_seconds
        from marts.fct_sessions {_where(session_conditions)}
    """, parameters)
    return {"start": start.isoformat(), "end": end.isoformat(), "organization_id": scope.organization_id,
            "totals": totals, "days": [_jsonable(row) for row in days], "length_distribution": distribution,
            "start_reasons": breakdown["start_reason"], "end_reasons": breakdown["end_reason"],
            "engagement_tiers": breakdown["engagement_tier"], "alerts": [_jsonable(row) for row in alerts]}


def daily_sessions(reader: Reader, conditions: list[str], parameters: dict) -> list[dict]:
    """rpt_daily_sessions' definition over the sessions these conditions keep."""
    return reader.rows(f"""
        with daily as (
            select session_date as day, count(*) as session_count,
                sum(round(duration_seconds * 1000000)) / cast(1000000 as double) as total_duration_seconds,
                round(quantile_cont(duration_seconds, 0.5) * 100000000) / cast(100000000 as double)
                    as median_duration_seconds,
                round(quantile_cont(duration_seconds, 0.9) * 100000000) / cast(100000000 as double)
                    as p90_duration_seconds,
                count(distinct user_id) as active_users
            from marts.fct_sessions
            {_where(conditions)}
            group by session_date
        )
        select day, session_count, total_duration_seconds, total_duration_seconds / session_count as mean_duration_seconds,
            median_duration_seconds, p90_duration_seconds, active_users
        from daily
        order by day
    """, parameters)


def length_distribution(reader: Reader, conditions: list[str], parameters: dict) -> list[dict]:
    """rpt_session_length_distribution's buckets (taken from the mart itself) over the sessions these conditions
    keep, lengths and edges compared in whole microseconds."""
    return reader.rows(f"""
        with dwell_buckets as (
            select distinct bucket_number, bucket_label, lower_seconds, upper_seconds,
                cast(round(lower_seconds * 1000000) as bigint) as lower_us,
                cast(round(upper_seconds * 1000000) as bigint) as upper_us
            from marts.rpt_session_length_distribution
        ),
        kept as (
            select cast(round(duration_seconds * 1000000) as bigint) as duration_us
            from marts.fct_sessions
            {_where(conditions)}
        )
        select dwell_buckets.bucket_number, dwell_buckets.bucket_label, dwell_buckets.lower_seconds,
            dwell_buckets.upper_seconds, count(kept.duration_us) as session_count
        from dwell_buckets
        left join kept
            on kept.duration_us >= dwell_buckets.lower_us
            and (dwell_buckets.upper_us is null or kept.duration_us < dwell_buckets.upper_us)
        group by all
        order by dwell_buckets.bucket_number
    """, parameters)


def health(reader: Reader) -> dict:
    facts = reader.snapshot.facts
    return {"status": "ok", "snapshot": reader.snapshot.id, "published_at": reader.snapshot.published_at,
            "built_at": facts["built_at"], "marts": len(facts["marts"])}


def require(condition: bool, status: int, message: str) -> None:
    if not condition:
        raise ApiError(status, message)
