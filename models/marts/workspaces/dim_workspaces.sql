with workspaces as (

    select * from {{ ref('stg_workspaces') }}

),

members as (

    select * from {{ ref('stg_workspace_members') }}

),

event_days as (

    select * from {{ ref('int_user_event_days') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

memberships as (

    select * from {{ ref('fct_workspace_memberships') }}

),

event_activity as (

    select
        workspace_id,
        {{ dwell_first_non_null('first_organization_id', 'first_organization_at') }} as first_event_organization_id,
        min(first_event_at) as first_seen_at,
        max(last_event_at) as last_seen_at,
        cast(sum(event_count) as bigint) as event_count,
        count(distinct user_id) as active_user_count
    from event_days
    where workspace_id is not null
    group by workspace_id

),

membership as (

    select
        workspace_id,
        count(*) as member_count,
        count(case when role = 'admin' then 1 end) as admin_count
    from members
    group by workspace_id

),

-- Owners included, unlike member_count, which counts the members file only.
all_members as (

    select workspace_id, count(*) as membership_count
    from memberships
    group by workspace_id

),

counted_activity as (

    select
        workspace_id,
        count(distinct project_id) as active_project_count,
        cast(sum(build_count) as bigint) as build_count,
        cast(sum(debug_count) as bigint) as debug_count,
        cast(sum(deploy_count) as bigint) as deploy_count,
        cast(sum(factory_count) as bigint) as factory_count,
        max(last_event_at) as last_activity_at
    from activity
    where workspace_id is not null
    group by workspace_id

),

session_activity as (

    select
        workspace_id,
        count(*) as session_count,
        {{ dwell_sum_seconds("duration_seconds") }} as total_session_seconds
    from sessions
    where workspace_id is not null
    group by workspace_id

),

all_workspaces as (

    select workspace_id from workspaces
    union
    select workspace_id from event_activity
    union
    select workspace_id from membership
    union
    select workspace_id from all_members

),

final as (

    select
        all_workspaces.workspace_id,
        workspaces.workspace_name,
        coalesce(workspaces.organization_id, event_activity.first_event_organization_id) as organization_id,
        workspaces.owner_user_id,
        workspaces.created_at,
        workspaces.workspace_id is not null as is_in_workspaces_file,
        coalesce(membership.member_count, 0) as member_count,
        coalesce(membership.admin_count, 0) as admin_count,
        event_activity.first_seen_at,
        event_activity.last_seen_at,
        coalesce(event_activity.event_count, 0) as event_count,
        coalesce(event_activity.active_user_count, 0) as active_user_count,
        coalesce(session_activity.session_count, 0) as session_count,
        coalesce(session_activity.total_session_seconds, 0) as total_session_seconds,
        coalesce(session_activity.total_session_seconds, 0) / 60.0 as usage_minutes,
        coalesce(all_members.membership_count, 0) as membership_count,
        coalesce(counted_activity.active_project_count, 0) as active_project_count,
        coalesce(counted_activity.build_count, 0) as build_count,
        coalesce(counted_activity.debug_count, 0) as debug_count,
        coalesce(counted_activity.deploy_count, 0) as deploy_count,
        coalesce(counted_activity.factory_count, 0) as factory_count,
        counted_activity.last_activity_at
    from all_workspaces
    left join workspaces
        on all_workspaces.workspace_id = workspaces.workspace_id
    left join event_activity
        on all_workspaces.workspace_id = event_activity.workspace_id
    left join membership
        on all_workspaces.workspace_id = membership.workspace_id
    left join session_activity
        on all_workspaces.workspace_id = session_activity.workspace_id
    left join all_members
        on all_workspaces.workspace_id = all_members.workspace_id
    left join counted_activity
        on all_workspaces.workspace_id = counted_activity.workspace_id

)

select * from final
