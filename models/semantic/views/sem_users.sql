{#- dim_users with the user's first counted event in reporting_time_zone: metric_time of new_users
    (docs/metrics.md). The semantic layer leaves out email and names. A table outside UTC, as sem_sessions. -#}
{%- set zone = dwell_reporting_time_zone() %}
{{ config(materialized='view' if zone == dbt.string_literal('UTC') else 'table') }}

with users as (

    select * from {{ ref('dim_users') }}

),

final as (

    select
        users.user_id,
        users.email_domain,
        users.company,
        users.organization_id,
        users.is_in_users_file,
        users.registered_at,
        users.first_activity_at,
        {{ dwell_utc_to_local('users.first_activity_at', zone) }} as first_activity_local_at
    from users

)

select * from final
