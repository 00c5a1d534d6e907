{%- set zone = dwell_reporting_time_zone() %}

with user_periods as (

    select * from {{ ref('int_user_period_activity') }}

),

activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

workspaces as (

    select * from {{ ref('dim_workspaces') }}

),

user_totals as (

    select
        grain,
        period_start,
        min(period_end) as period_end,
        count(*) as active_user_count,
        cast(sum(session_count) as bigint) as session_count,
        {{ dwell_sum_seconds('usage_seconds') }} as usage_seconds,
        cast(sum(event_count) as bigint) as event_count,
        cast(sum(build_count) as bigint) as build_count,
        cast(sum(debug_count) as bigint) as debug_count,
        cast(sum(deploy_count) as bigint) as deploy_count,
        cast(sum(factory_count) as bigint) as factory_count,
        cast(sum(invitation_count) as bigint) as invitation_count
    from user_periods
    group by grain, period_start

),

-- Each workspace and project once per local day, with its first quarter hour there: a period's distinct count is
-- the distinct count over its days, and these rows are far fewer than the quarter hours.
daily_activity as (

    select
        min(quarter_hour_at) as quarter_hour_at,
        workspace_id,
        project_id
    from activity
    group by {{ dwell_period_start('day', dwell_utc_to_local('quarter_hour_at', zone)) }}, workspace_id, project_id

),

activity_periods as (

    {{ dwell_in_periods('daily_activity', 'quarter_hour_at', zone) | indent(4) }}

),

-- Distinct over all users: a workspace or project active for two users counts once.
distinct_activity as (

    select
        grain,
        period_start,
        count(distinct workspace_id) as active_workspace_count,
        count(distinct project_id) as active_project_count
    from activity_periods
    group by grain, period_start

),

periods as (

    select
        user_totals.*,
        {{ dwell_local_to_utc('cast(user_totals.period_end as timestamp)', zone) }} as period_end_at
    from user_totals

),

-- Accounts and workspaces that existed at the period's end: registered or created (else first seen) before it.
existing as (

    select
        periods.grain,
        periods.period_start,
        (
            select count(*)
            from users
            where periods.period_end_at is null
                or coalesce(users.registered_at, users.first_seen_at) < periods.period_end_at
        ) as user_account_count,
        (
            select count(*)
            from workspaces
            where periods.period_end_at is null
                or coalesce(workspaces.created_at, workspaces.first_seen_at) < periods.period_end_at
        ) as workspace_count
    from periods

),

final as (

    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        {{ zone }} as time_zone,
        existing.workspace_count,
        distinct_activity.active_workspace_count,
        existing.user_account_count,
        periods.active_user_count,
        periods.session_count,
        periods.usage_seconds / 60.0 as usage_minutes,
        periods.event_count,
        periods.build_count,
        periods.debug_count,
        periods.deploy_count,
        periods.factory_count,
        periods.invitation_count,
        distinct_activity.active_project_count
    from periods
    inner join existing
        on periods.grain = existing.grain
        and periods.period_start is not distinct from existing.period_start
    inner join distinct_activity
        on periods.grain = distinct_activity.grain
        and periods.period_start is not distinct from distinct_activity.period_start

)

select * from final
