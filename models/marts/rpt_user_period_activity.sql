{{ config(contract={'enforced': true}, tags=['lifetime']) }}

{%- set zone = dwell_reporting_time_zone() %}

with activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

-- A quarter hour lies on one local date in every zone (see dwell_quarter_hour).
activity_periods as (

    {{ dwell_in_periods('activity', 'quarter_hour_at', zone) | indent(4) }}

),

user_activity as (

    select
        grain,
        period_start,
        user_id,
        cast(sum(event_count) as bigint) as event_count,
        count(distinct workspace_id) as active_workspace_count,
        count(distinct project_id) as active_project_count,
        cast(sum(build_count) as bigint) as build_count,
        cast(sum(debug_count) as bigint) as debug_count,
        cast(sum(deploy_count) as bigint) as deploy_count,
        cast(sum(factory_count) as bigint) as factory_count,
        cast(sum(invitation_count) as bigint) as invitation_count
    from activity_periods
    group by grain, period_start, user_id

),

-- A session counts, with all its duration, in the period where it starts.
session_periods as (

    {{ dwell_in_periods('sessions', 'session_start_at', zone) | indent(4) }}

),

user_sessions as (

    select
        grain,
        period_start,
        user_id,
        count(*) as session_count,
        {{ dwell_sum_seconds('duration_seconds') }} as usage_seconds
    from session_periods
    group by grain, period_start, user_id

),

final as (

    select
        user_activity.grain,
        user_activity.period_start,
        case user_activity.grain
            when 'day' then cast({{ dbt.dateadd('day', 1, 'user_activity.period_start') }} as date)
            when 'week' then cast({{ dbt.dateadd('day', 7, 'user_activity.period_start') }} as date)
            when 'month' then cast({{ dbt.dateadd('month', 1, 'user_activity.period_start') }} as date)
        end as period_end,
        {{ zone }} as time_zone,
        user_activity.user_id,
        users.email,
        users.email_domain,
        users.company,
        users.organization_id,
        coalesce(user_sessions.session_count, 0) as session_count,
        coalesce(user_sessions.usage_seconds, 0) as usage_seconds,
        coalesce(user_sessions.usage_seconds, 0) / 60.0 as usage_minutes,
        user_activity.event_count,
        user_activity.active_workspace_count,
        user_activity.active_project_count,
        user_activity.build_count,
        user_activity.debug_count,
        user_activity.deploy_count,
        user_activity.factory_count,
        user_activity.invitation_count
    from user_activity
    left join user_sessions
        on user_activity.grain = user_sessions.grain
        and user_activity.period_start is not distinct from user_sessions.period_start
        and user_activity.user_id = user_sessions.user_id
    left join users
        on user_activity.user_id = users.user_id

)

select * from final
