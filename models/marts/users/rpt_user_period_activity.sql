{{ config(materialized='view') }}

{# A view: the measures are kept incrementally in int_user_period_activity, and the user's attributes come from
    dim_users when it is read, since a users file can change them on any run. #}

with user_periods as (

    select * from {{ ref('int_user_period_activity') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

final as (

    select
        user_periods.grain,
        user_periods.period_start,
        user_periods.period_end,
        user_periods.time_zone,
        user_periods.user_id,
        users.email,
        users.email_domain,
        users.company,
        users.organization_id,
        user_periods.session_count,
        user_periods.usage_seconds,
        user_periods.usage_minutes,
        user_periods.event_count,
        user_periods.active_workspace_count,
        user_periods.active_project_count,
        user_periods.build_count,
        user_periods.debug_count,
        user_periods.deploy_count,
        user_periods.factory_count,
        user_periods.invitation_count
    from user_periods
    left join users
        on user_periods.user_id = users.user_id

)

select * from final
