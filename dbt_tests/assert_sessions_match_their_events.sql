{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}
-- depends_on: {{ ref('int_sessions_rebuilt') }}, {{ ref('int_event_ids_changed') }}
-- As many session events as counted staged events, and the sessions' summaries count them all. That no event is in
-- two sessions is unique_fct_session_events_event_id's check. On an incremental build, for what the run wrote: each
-- session it wrote counts its events, and each event it changed that counts is in a session.
{% if dwell_this_run_is_incremental() -%}
with written_sessions as (

    select session_id, event_count
    from {{ ref('fct_sessions') }}
    where {{ dwell_keys_written_this_run('session_id', ref('int_sessions_rebuilt')) }}

),

their_events as (

    select session_id, count(*) as event_count
    from {{ ref('fct_session_events') }}
    where {{ dwell_keys_written_this_run('session_id', ref('int_sessions_rebuilt')) }}
    group by session_id

),

changed_counted_events as (

    select event_id
    from {{ ref('int_events_categorized') }}
    where counts_toward_session
        and {{ dwell_keys_written_this_run('event_id', ref('int_event_ids_changed')) }}

)

select coalesce(written_sessions.session_id, their_events.session_id) as session_id, 'event count' as mismatch
from written_sessions
full outer join their_events
    on written_sessions.session_id = their_events.session_id
where written_sessions.event_count is distinct from their_events.event_count

union all

select changed_counted_events.event_id, 'counted event in no session'
from changed_counted_events
left join {{ ref('fct_session_events') }} as session_events
    on session_events.event_id = changed_counted_events.event_id
where session_events.event_id is null
{%- else -%}
with counted as (

    select count(*) as event_count
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

sessionized as (

    select count(*) as event_count
    from {{ ref('fct_session_events') }}

),

summarized as (

    select sum(event_count) as event_count from {{ ref('fct_sessions') }}

)

select counted.event_count as counted, sessionized.event_count as sessionized, summarized.event_count as summarized
from counted
cross join sessionized
cross join summarized
where counted.event_count <> sessionized.event_count
    or coalesce(summarized.event_count, 0) <> counted.event_count
{%- endif %}
