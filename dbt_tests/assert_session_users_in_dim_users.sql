{{ config(meta={'dagster': {'ref': {'name': 'dim_users'}}}) }}
-- Every user with a session is in dim_users (a check of dim_users, which is built after the sessions).
select sessions.user_id
from {{ ref('fct_sessions') }} as sessions
left join {{ ref('dim_users') }} as users
    on sessions.user_id = users.user_id
where users.user_id is null
