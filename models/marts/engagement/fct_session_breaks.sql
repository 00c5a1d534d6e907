{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_rebuilt_user_rows('session_start_at') }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Incremental by user: the sessions a run changes or renumbers, and their idle gaps, start at or after the user's
   rebuild point (int_session_user_scope), and the gap to the previous session only changes for those. The
   pre-hook deletes each scoped user's sessions from that point on, and this model writes them again. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

idle_gaps as (

    select * from {{ ref('int_session_idle_gaps') }}

),

-- All of a scoped user's sessions: the first rebuilt one's previous session precedes the rebuild point.
user_sessions as (

    {{ dwell_rebuilt_user_rows('sessions') | indent(4) }}

),

rebuilt_idle_gaps as (

    {{ dwell_rebuilt_user_rows('idle_gaps', 'session_start_at') | indent(4) }}

),

idle_by_session as (

    select
        session_id,
        count(*) as idle_gap_count,
        {{ dwell_sum_seconds('gap_seconds') }} as idle_total_seconds,
        max(gap_seconds) as longest_idle_seconds
    from rebuilt_idle_gaps
    group by session_id

),

with_previous as (

    select
        session_id,
        user_id,
        session_start_at,
        session_date,
        -- session_number is the user's chronological order across all session partitions.
        lag(session_id) over user_order as previous_session_id,
        lag(session_end_at) over user_order as previous_session_end_at
    from user_sessions
    window user_order as (partition by user_id order by session_number)

),

rebuilt_sessions as (

    {{ dwell_rebuilt_user_rows('with_previous', 'session_start_at') | indent(4) }}

),

final as (

    select
        rebuilt_sessions.session_id,
        rebuilt_sessions.user_id,
        rebuilt_sessions.session_start_at,
        coalesce(idle_by_session.idle_gap_count, 0) as idle_gap_count,
        coalesce(idle_by_session.idle_total_seconds, 0) as idle_total_seconds,
        idle_by_session.longest_idle_seconds,
        ({{ dwell_epoch_microseconds('rebuilt_sessions.session_start_at') }}
            - {{ dwell_epoch_microseconds('rebuilt_sessions.previous_session_end_at') }}) / {{ dwell_microseconds_per_second() }}
            as seconds_since_previous_session,
        rebuilt_sessions.previous_session_id,
        rebuilt_sessions.session_date
    from rebuilt_sessions
    left join idle_by_session
        on rebuilt_sessions.session_id = idle_by_session.session_id

)

select * from final
