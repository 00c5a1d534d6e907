{{ config(materialized='view') }}

{# A view: a workspace name joined into an incremental table would go stale when the workspaces file renames a
   workspace, and every other column is a sum over the focus periods of fct_micro_sessions (incremental, a few rows
   per workspace session), so reading it stays cheap and always equals a full refresh. Lifetime, like the
   dim_workspaces it reads. #}

with micro_sessions as (

    select * from {{ ref('fct_micro_sessions') }}

),

workspaces as (

    select * from {{ ref('dim_workspaces') }}

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
        with_neighbours.workspace_session_id,
        with_neighbours.session_id,
        with_neighbours.user_id,
        with_neighbours.organization_id,
        with_neighbours.workspace_id,
        workspaces.workspace_name,
        with_neighbours.started_at,
        with_neighbours.ended_at,
        with_neighbours.duration_seconds,
        cast(with_neighbours.event_count as bigint) as event_count,
        case when with_neighbours.is_first_in_session then 'first_event' else 'inactivity' end as start_reason,
        case when with_neighbours.is_last_in_session then 'last_event' else 'inactivity' end as end_reason,
        with_neighbours.micro_session_count,
        with_neighbours.focused_seconds,
        (
            {{ dwell_seconds_to_microseconds('with_neighbours.duration_seconds') }}
            - {{ dwell_seconds_to_microseconds('with_neighbours.focused_seconds') }}
        ) / {{ dwell_microseconds_per_second() }} as away_seconds,
        cast(with_neighbours.started_at as date) as session_date
    from with_neighbours
    left join workspaces
        on with_neighbours.workspace_id = workspaces.workspace_id

)

select * from final
order by started_at, user_id, workspace_session_id
