{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}
-- As many session events as counted staged events, and the sessions' summaries count them all. That no event is in
-- two sessions is unique_fct_session_events_event_id's check (it was a count distinct here too, the test's cost).
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
