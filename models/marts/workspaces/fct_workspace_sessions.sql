{{ config(materialized='view') }}

{# A view: the workspace's name joined into a table would go stale when the workspaces file renames a workspace.
   The sessions themselves are int_workspace_sessions, rebuilt by dwell session, so reading this view stays cheap
   and always equals a full refresh. Lifetime, like the dim_workspaces it reads. #}

with workspace_sessions as (

    select * from {{ ref('int_workspace_sessions') }}

),

workspaces as (

    select * from {{ ref('dim_workspaces') }}

),

final as (

    select
        workspace_sessions.workspace_session_id,
        workspace_sessions.session_id,
        workspace_sessions.user_id,
        workspace_sessions.organization_id,
        workspace_sessions.workspace_id,
        workspaces.workspace_name,
        workspace_sessions.started_at,
        workspace_sessions.ended_at,
        workspace_sessions.duration_seconds,
        workspace_sessions.event_count,
        workspace_sessions.start_reason,
        workspace_sessions.end_reason,
        workspace_sessions.micro_session_count,
        workspace_sessions.focused_seconds,
        workspace_sessions.away_seconds,
        workspace_sessions.session_date
    from workspace_sessions
    left join workspaces
        on workspace_sessions.workspace_id = workspaces.workspace_id

)

select * from final
order by started_at, user_id, workspace_session_id
