{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('period_start'),
    pre_hook="{{ dwell_delete_rebuilt_periods() }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# The measures of rpt_user_period_activity per grain, period and user, without the user's attributes: the report,
    a view, joins those from dim_users, since a users file changes them without any activity changing.
    Incremental: every session and quarter hour a run changes lies at or after its user's rebuild point
    (int_session_user_scope), so the pre-hook deletes each scoped user's periods from the ones that hold that point,
    and lifetime, and this model sums them again. A full build, or a new reporting_time_zone, rebuilds every row. #}

{%- set zone = dwell_reporting_time_zone() %}
{%- set scope = none if dwell_rebuilds_every_period(zone) else 'scope' %}

with activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

{% if scope is not none -%}
scope as (

    {{ dwell_rebuilt_periods(zone) | indent(4) }}

),

{% endif -%}

-- A quarter hour lies on one local date in every zone (see dwell_quarter_hour).
activity_periods as (

    {{ dwell_in_periods('activity', 'quarter_hour_at', zone, scope) | indent(4) }}

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

    {{ dwell_in_periods('sessions', 'session_start_at', zone, scope) | indent(4) }}

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

)

select * from final
