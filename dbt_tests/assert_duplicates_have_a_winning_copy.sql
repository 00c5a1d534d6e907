{{ config(meta={'dagster': {'ref': {'name': 'stg_events_duplicates'}}}) }}
-- A duplicate is a later copy of an event whose winning copy is staged, or sampled out (README "Sampling"). On an
-- incremental build, for the event ids this run ranked: the copies of an id are ranked together.
{%- set scope = dwell_run_scope_of('stg_landed_events') if execute else none %}

with duplicates as (

    select event_id
    from {{ ref('stg_events_duplicates') }}
    {%- if scope %}
    where {{ scope }}
    {%- endif %}

),

winning_copies as (

    select event_id
    from {{ ref('stg_landed_events') }}
    where load_status in ('staged', 'sampled_out')
        and event_id in (select event_id from duplicates)

)

select event_id
from duplicates
where event_id not in (select event_id from winning_copies)
