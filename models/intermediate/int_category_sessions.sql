{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('activity_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# Category sessions nest inside dwell sessions, so a session's category sessions depend only on its own events:
   an incremental run rebuilds exactly the sessions whose events it changes (int_sessions_changed). #}

{%- set category_partition = ['user_id', 'parent_session_id', 'category'] %}

with session_events as (

    {{ dwell_changed_session_events() }}

),

-- Only what sessionizing needs.
category_events as (

    select
        event_id,
        user_id,
        session_id as parent_session_id,
        category,
        event_name,
        occurred_at
    from session_events

),

sessions as (

    {{ dwell_session_bounds('category_events', {
        'partition_by': category_partition, 'timeout_us': dwell_activity_timeout_us(),
        'restart_events': [], 'end_events': [],
    }) }}

),

final as (

    select
        {{ dwell_session_id(category_partition, 'session_first_event_id') }} as category_session_id,
        parent_session_id as session_id,
        user_id,
        category,
        session_start_at as started_at,
        session_end_at as ended_at,
        (session_end_us - session_start_us) / {{ dwell_microseconds_per_second() }} as duration_seconds,
        event_count,
        cast(session_start_at as date) as activity_date
    from sessions

)

select * from final
