{{ config(
    materialized='incremental',
    incremental_strategy='append',
    partition_by=dwell_spark_partition_by('session_date'),
    on_schema_change='fail',
    contract={'enforced': true},
    tags=['daily'],
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# Focus periods of workspace sessions (README "Workspace sessions and focus time"). Workspace sessions nest inside
   dwell sessions, so a dwell session's own events decide every row: an incremental run deletes the dwell sessions
   of int_sessions_changed (pre-hook) and appends them again from their events. #}

{%- set timeout_seconds = dwell_seconds_setting('workspace_session_timeout_seconds', var('workspace_session_timeout_seconds')) %}
{%- set workspace_partition = ['user_id', 'parent_session_id', 'workspace_id'] %}

with session_events as (

    {{ dwell_changed_session_events() }}

),

-- An event without a workspace belongs to no workspace session.
workspace_events as (

    select
        event_id,
        user_id,
        session_id as parent_session_id,
        workspace_id,
        organization_id,
        event_name,
        occurred_at,
        session_date
    from session_events
    where workspace_id is not null

),

-- A blur ends the focus period it is in, so an event's period is 1 + the blurs before it in its workspace session.
sessionized as (

    {{ dwell_sessionize(
        'workspace_events',
        partition_by=workspace_partition,
        timeout_seconds=timeout_seconds,
        restart_events=[],
        end_events=[],
        max_length_seconds=none,
        counted_events={'blurs_before': "event_name = 'workspace_blur'"},
    ) }}

),

periods as (

    select
        {{ dwell_session_id(workspace_partition, 'session_first_event_id') }} as workspace_session_id,
        parent_session_id as session_id,
        user_id,
        workspace_id,
        1 + blurs_before as micro_session_number,
        {{ dwell_first_non_null('organization_id', 'event_number_in_session') }} as organization_id,
        {{ dwell_first_non_null('event_id', 'event_number_in_session') }} as first_event_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        max(occurred_us) - min(occurred_us) as focused_us,
        max(seconds_since_session_start) as session_elapsed_seconds,
        count(*) as event_count,
        -- Every event of a dwell session has its session_date.
        min(session_date) as session_date,
        -- A blur is always its period's last event: only a blur ends a period before the session's end.
        case
            when count(case when event_name = 'workspace_blur' then 1 end) > 0 then 'blur'
            else 'session_end'
        end as ended_by
    from sessionized
    group by user_id, parent_session_id, workspace_id, session_first_event_id, blurs_before

),

final as (

    select
        {{ dbt.hash(dwell_concat_keys(['workspace_session_id', 'first_event_id'])) }} as micro_session_id,
        workspace_session_id,
        session_id,
        user_id,
        organization_id,
        workspace_id,
        micro_session_number,
        started_at,
        ended_at,
        focused_us / {{ dwell_microseconds_per_second() }} as focused_seconds,
        sum(focused_us) over (
            partition by workspace_session_id
            order by micro_session_number
            rows between unbounded preceding and current row
        ) / {{ dwell_microseconds_per_second() }} as cumulative_focused_seconds,
        session_elapsed_seconds,
        ended_by,
        event_count,
        session_date
    from periods

)

select * from final
