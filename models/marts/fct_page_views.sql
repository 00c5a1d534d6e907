{{ config(
    materialized='incremental',
    incremental_strategy='append',
    partition_by=dwell_spark_partition_by('session_date'),
    on_schema_change='fail',
    contract={'enforced': true},
    tags=['daily'],
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# One row per page view with its dwell time: the time to the next event of its session (of any kind). A page view
   that is its session's last event has no next event, so it gets page_dwell_last_page_cap_seconds (0 gives 0)
   and is_capped. Incremental by session: the sessions this run changes are deleted (pre-hook) and appended again
   from their events; a session's own events decide every value. #}

{%- set cap = dwell_seconds_setting('page_dwell_last_page_cap_seconds', var('page_dwell_last_page_cap_seconds'), allow_disable=true) %}
{%- set tracked_pages = dwell_string_list_setting('tracked_pages', var('tracked_pages')) %}

with session_events as (

    {{ dwell_changed_session_events() }}

),

with_next as (

    select
        event_id,
        session_id,
        user_id,
        event_name,
        page,
        occurred_at,
        is_last_event_in_session,
        session_date,
        lead({{ dwell_epoch_microseconds('occurred_at') }}) over (
            partition by session_id order by event_number_in_session
        ) - {{ dwell_epoch_microseconds('occurred_at') }} as microseconds_to_next_event
    from session_events

),

final as (

    select
        event_id,
        session_id,
        user_id,
        page,
        occurred_at as viewed_at,
        case
            when is_last_event_in_session then cast({{ cap if cap is not none else 0 }} as {{ dwell_type_double() }})
            else microseconds_to_next_event / {{ dwell_microseconds_per_second() }}
        end as dwell_seconds,
        is_last_event_in_session as is_last_in_session,
        is_last_event_in_session as is_capped,
        session_date
    from with_next
    where event_name = 'page_view'
        and page is not null
        {% if tracked_pages -%}
        and {{ dwell_in_list('page', tracked_pages) }}
        {%- endif %}

)

select * from final
