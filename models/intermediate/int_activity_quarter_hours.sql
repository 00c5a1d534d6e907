{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# Counted events summed per session, quarter hour (UTC), workspace and project: the small input the user and
    workspace marts and the period reports read instead of scanning every event. Quarter hours keep it independent
    of reporting_time_zone. Incremental: the sessions this run changes are deleted and summed again. #}

with session_events as (

    {{ dwell_changed_session_events() }}

),

final as (

    select
        session_id,
        user_id,
        {{ dwell_quarter_hour('occurred_at') }} as quarter_hour_at,
        workspace_id,
        project_id,
        count(*) as event_count,
        count(case when event_name = 'build_started' then 1 end) as build_count,
        count(case when event_name = 'debug_started' then 1 end) as debug_count,
        count(case when event_name = 'deploy_started' then 1 end) as deploy_count,
        count(case when event_name = 'factory_created' then 1 end) as factory_count,
        count(case when event_name = 'invitation_sent' then 1 end) as invitation_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        session_date
    from session_events
    group by session_id, user_id, quarter_hour_at, workspace_id, project_id, session_date

)

select * from final
