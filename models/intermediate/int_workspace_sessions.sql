{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# Workspace sessions without their workspace's name, which fct_workspace_sessions joins at read time. Each sums the
   focus periods of one workspace inside one dwell session, so a run rebuilds the workspace sessions of the dwell
   sessions it changes (int_sessions_changed), as fct_micro_sessions does, and reads no history. #}

with micro_sessions as (

    select *
    from {{ ref('fct_micro_sessions') }}
    {%- if is_incremental() and dwell_rebuild_mode() != 'full' %}
    where session_id in (select session_id from {{ ref('int_sessions_changed') }} where not is_removed)
    {%- endif %}

),

-- The focus periods cover every event of their workspace session, so its bounds and counts are theirs.
workspace_sessions as (

    select
        workspace_session_id,
        session_id,
        user_id,
        workspace_id,
        {{ dwell_first_non_null('organization_id', 'micro_session_number') }} as organization_id,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        max(session_elapsed_seconds) as duration_seconds,
        sum(event_count) as event_count,
        count(*) as micro_session_count,
        max(cumulative_focused_seconds) as focused_seconds
    from micro_sessions
    group by workspace_session_id, session_id, user_id, workspace_id

),

-- Inside a dwell session only inactivity splits a workspace's events, so a neighbour in the same workspace means
-- a gap longer than workspace_session_timeout_seconds.
with_neighbours as (

    select
        workspace_sessions.*,
        lag(workspace_session_id) over workspace_in_session is null as is_first_in_session,
        lead(workspace_session_id) over workspace_in_session is null as is_last_in_session
    from workspace_sessions
    window workspace_in_session as (partition by session_id, workspace_id order by started_at)

),

final as (

    select
        workspace_session_id,
        session_id,
        user_id,
        organization_id,
        workspace_id,
        started_at,
        ended_at,
        duration_seconds,
        cast(event_count as bigint) as event_count,
        case when is_first_in_session then 'first_event' else 'inactivity' end as start_reason,
        case when is_last_in_session then 'last_event' else 'inactivity' end as end_reason,
        micro_session_count,
        focused_seconds,
        (
            {{ dwell_seconds_to_microseconds('duration_seconds') }}
            - {{ dwell_seconds_to_microseconds('focused_seconds') }}
        ) / {{ dwell_microseconds_per_second() }} as away_seconds,
        cast(started_at as date) as session_date
    from with_neighbours

)

select * from final
