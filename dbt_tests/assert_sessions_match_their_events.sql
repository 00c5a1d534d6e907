{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}
-- Every counted staged event is in exactly one session, and each session's summary agrees with its events.
with counted as (

    select count(*) as event_count
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

sessionized as (

    select count(*) as event_count, count(distinct event_id) as distinct_events
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
    or sessionized.event_count <> sessionized.distinct_events
    or coalesce(summarized.event_count, 0) <> counted.event_count
