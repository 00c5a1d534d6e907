{{ config(contract={'enforced': true}, tags=['daily']) }}

{# A table rebuilt every run: the gap to the previous session depends on the user's neighbouring sessions, which
   change without this session's events changing. The idle gaps come from the incremental int_session_idle_gaps,
   so no run rescans the events. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

idle_gaps as (

    select * from {{ ref('int_session_idle_gaps') }}

),

idle_by_session as (

    select
        session_id,
        count(*) as idle_gap_count,
        {{ dwell_sum_seconds('gap_seconds') }} as idle_total_seconds,
        max(gap_seconds) as longest_idle_seconds
    from idle_gaps
    group by session_id

),

with_previous as (

    select
        session_id,
        user_id,
        session_start_at,
        -- session_number is the user's chronological order across all session partitions.
        lag(session_id) over user_sessions as previous_session_id,
        lag(session_end_at) over user_sessions as previous_session_end_at
    from sessions
    window user_sessions as (partition by user_id order by session_number)

),

final as (

    select
        with_previous.session_id,
        with_previous.user_id,
        with_previous.session_start_at,
        coalesce(idle_by_session.idle_gap_count, 0) as idle_gap_count,
        coalesce(idle_by_session.idle_total_seconds, 0) as idle_total_seconds,
        idle_by_session.longest_idle_seconds,
        ({{ dwell_epoch_microseconds('with_previous.session_start_at') }}
            - {{ dwell_epoch_microseconds('with_previous.previous_session_end_at') }}) / 1000000.0
            as seconds_since_previous_session,
        with_previous.previous_session_id
    from with_previous
    left join idle_by_session
        on with_previous.session_id = idle_by_session.session_id

)

select * from final
