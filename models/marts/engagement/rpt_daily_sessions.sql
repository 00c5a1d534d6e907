{# Rebuilt from fct_sessions on every run: session rows change without their events (renumbering, concluding),
   and sessions are few enough to rescan. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

daily as (

    select
        session_date as day,
        count(*) as session_count,
        {{ dwell_sum_seconds('duration_seconds') }} as total_duration_seconds,
        {{ dwell_percentile('duration_seconds', 0.5) }} as median_duration_seconds,
        {{ dwell_percentile('duration_seconds', 0.9) }} as p90_duration_seconds,
        count(distinct user_id) as active_users
    from sessions
    group by session_date

),

final as (

    select
        day,
        session_count,
        total_duration_seconds,
        -- From the exact sum, not avg(): a sum of doubles depends on row order, which differs between incremental and full builds.
        total_duration_seconds / session_count as mean_duration_seconds,
        median_duration_seconds,
        p90_duration_seconds,
        active_users
    from daily

)

select * from final
