{# Per day, the distribution of idle gaps inside sessions and of gaps between a user's consecutive sessions. Each
   gap counts on the UTC date its session starts (for a gap between sessions, the later one), the day
   rpt_daily_sessions counts the session on. Every day with sessions has a row. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

idle_gaps as (

    select * from {{ ref('int_session_idle_gaps') }}

),

session_breaks as (

    select * from {{ ref('fct_session_breaks') }}

),

days as (

    select distinct session_date as day from sessions

),

idle_daily as (

    select
        cast(session_start_at as date) as day,
        count(*) as idle_gap_count,
        {{ dwell_sum_seconds('gap_seconds') }} as idle_total_seconds,
        {{ dwell_percentile('gap_seconds', 0.5) }} as idle_median_seconds,
        {{ dwell_percentile('gap_seconds', 0.9) }} as idle_p90_seconds,
        max(gap_seconds) as idle_longest_seconds
    from idle_gaps
    group by cast(session_start_at as date)

),

between_daily as (

    select
        cast(session_start_at as date) as day,
        count(*) as between_session_gap_count,
        {{ dwell_percentile('seconds_since_previous_session', 0.5) }} as between_session_median_seconds,
        {{ dwell_percentile('seconds_since_previous_session', 0.9) }} as between_session_p90_seconds
    from session_breaks
    where seconds_since_previous_session is not null
    group by cast(session_start_at as date)

),

final as (

    select
        days.day,
        coalesce(idle_daily.idle_gap_count, 0) as idle_gap_count,
        coalesce(idle_daily.idle_total_seconds, 0) as idle_total_seconds,
        idle_daily.idle_median_seconds,
        idle_daily.idle_p90_seconds,
        idle_daily.idle_longest_seconds,
        coalesce(between_daily.between_session_gap_count, 0) as between_session_gap_count,
        between_daily.between_session_median_seconds,
        between_daily.between_session_p90_seconds
    from days
    left join idle_daily
        on days.day = idle_daily.day
    left join between_daily
        on days.day = between_daily.day

)

select * from final
