{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# One row per idle gap: a gap between consecutive events of a session of at least idle_gap_seconds. Incremental:
   the sessions this run changes are deleted (pre-hook) and appended again from their events, so history is never
   rescanned. Only the session's own events decide its gaps. #}

{%- set idle_gap_us = dwell_microseconds(dwell_seconds_setting('idle_gap_seconds', var('idle_gap_seconds'))) %}

with session_events as (

    {{ dwell_changed_session_events() }}

),

final as (

    select
        event_id as gap_end_event_id,
        session_id,
        user_id,
        session_start_at,
        occurred_at as gap_ended_at,
        seconds_since_previous_event as gap_seconds,
        session_date
    from session_events
    where {{ dwell_seconds_to_microseconds('seconds_since_previous_event') }} >= {{ idle_gap_us }}

)

select * from final
