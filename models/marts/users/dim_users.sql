with users as (

    select * from {{ ref('stg_users') }}

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
        user_id,
        {{ dwell_first_non_null('first_organization_id', 'first_organization_at') }} as first_event_organization_id,
        min(first_event_at) as first_seen_at,
        max(last_event_at) as last_seen_at,
        cast(sum(event_count) as bigint) as event_count
    from event_days
    group by user_id

),

session_activity as (

    select
        user_id,
        count(*) as session_count,
        {{ dwell_sum_seconds("duration_seconds") }} as total_session_seconds
    from sessions
    group by user_id

),

counted_activity as (

    select
        user_id,
        count(distinct project_id) as project_count,
        count(distinct workspace_id) as active_workspace_count,
        min(first_event_at) as first_activity_at,
        max(last_event_at) as last_activity_at
    from activity
    group by user_id

),

membership as (

    select user_id, count(*) as workspace_count
    from memberships
    group by user_id

),

all_users as (

    select user_id from users
    union
    select user_id from event_activity
    union
    select user_id from membership

),

final as (

    select
        all_users.user_id,
        users.email,
        users.email_domain,
        users.first_name,
        users.last_name,
        users.company,
        coalesce(users.organization_id, event_activity.first_event_organization_id) as organization_id,
        users.registered_at,
        users.user_id is not null as is_in_users_file,
        event_activity.first_seen_at,
        event_activity.last_seen_at,
        coalesce(event_activity.event_count, 0) as event_count,
        coalesce(session_activity.session_count, 0) as session_count,
        coalesce(session_activity.total_session_seconds, 0) as total_session_seconds,
        coalesce(session_activity.total_session_seconds, 0) / 60.0 as usage_minutes,
        coalesce(counted_activity.project_count, 0) as project_count,
        coalesce(membership.workspace_count, 0) as workspace_count,
        coalesce(counted_activity.active_workspace_count, 0) as active_workspace_count,
        counted_activity.first_activity_at,
        counted_activity.last_activity_at
    from all_users
    left join users
        on all_users.user_id = users.user_id
    left join event_activity
        on all_users.user_id = event_activity.user_id
    left join session_activity
        on all_users.user_id = session_activity.user_id
    left join counted_activity
        on all_users.user_id = counted_activity.user_id
    left join membership
        on all_users.user_id = membership.user_id

)

select * from final
