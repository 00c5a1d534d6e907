{# Users with no activity (no counted event) for at least inactive_after_days whole days before the newest staged
   event: the data's own clock, not the wall clock, so a rebuild of the same files gives the same rows. Users with
   no counted event at all are listed too, with null last activity. Lifetime: it reads dim_users. #}

{%- set inactive_after_days = dwell_count_setting('inactive_after_days', var('inactive_after_days')) %}

with users as (

    select * from {{ ref('dim_users') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

last_activity as (

    select user_id, max(session_end_at) as last_activity_at
    from sessions
    group by user_id

),

-- dim_users.last_seen_at is each user's newest staged event, so its maximum is the newest staged event of all.
horizon as (

    select max(last_seen_at) as newest_event_at from users

),

measured as (

    select
        users.user_id,
        users.email,
        last_activity.last_activity_at,
        cast(floor(
            ({{ dwell_epoch_microseconds('horizon.newest_event_at') }}
                - {{ dwell_epoch_microseconds('last_activity.last_activity_at') }}) / 86400000000.0
        ) as bigint) as days_inactive
    from users
    cross join horizon
    left join last_activity
        on users.user_id = last_activity.user_id

),

final as (

    select * from measured
    where last_activity_at is null
        or days_inactive >= {{ inactive_after_days }}

)

select * from final
