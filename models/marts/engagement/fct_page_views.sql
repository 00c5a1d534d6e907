{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# One row per page view with its dwell time: the time to the next event of its session (of any kind). A page view
   that is its session's last event has no next event, so it gets page_dwell_last_page_cap_seconds (0 gives 0)
   and is_capped. Incremental by session: the sessions this run changes are deleted (pre-hook) and appended again
   from their events; a session's own events decide every value. #}

{%- set cap = dwell_seconds_setting('page_dwell_last_page_cap_seconds', var('page_dwell_last_page_cap_seconds'), allow_disable=true) %}
{%- set tracked_pages = dwell_string_list_setting('tracked_pages', var('tracked_pages')) %}

with session_events as {{ dwell_inline_cte() }} (

    {{ dwell_changed_session_events() }}

),

page_views as (

    select
        event_id,
        session_id,
        user_id,
        page,
        occurred_at,
        event_number_in_session,
        is_last_event_in_session,
        session_date
    from session_events
    where event_name = 'page_view'
        and page is not null
        {% if tracked_pages -%}
        and {{ dwell_in_list('page', tracked_pages) }}
        {%- endif %}

),

-- The event after a page view in its session is numbered one higher, and its gap to the previous event is the page's
-- dwell time: a join on the page views, where a window would sort every event of every session.
next_events as (

    select
        session_id,
        event_number_in_session - 1 as previous_event_number,
        seconds_since_previous_event
    from session_events
    where event_number_in_session > 1

),

final as (

    select
        page_views.event_id,
        page_views.session_id,
        page_views.user_id,
        page_views.page,
        page_views.occurred_at as viewed_at,
        case
            when page_views.is_last_event_in_session
                then cast({{ cap if cap is not none else 0 }} as {{ dwell_type_double() }})
            else next_events.seconds_since_previous_event
        end as dwell_seconds,
        page_views.is_last_event_in_session as is_last_in_session,
        page_views.is_last_event_in_session as is_capped,
        page_views.session_date
    from page_views
    left join next_events
        on page_views.session_id = next_events.session_id
        and page_views.event_number_in_session = next_events.previous_event_number

)

select * from final
