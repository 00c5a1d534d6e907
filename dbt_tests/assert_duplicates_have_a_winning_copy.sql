{{ config(meta={'dagster': {'ref': {'name': 'stg_events_duplicates'}}}) }}
-- A duplicate is a later copy of an event whose winning copy is staged, or sampled out (README "Sampling").
select duplicates.event_id
from {{ ref('stg_events_duplicates') }} as duplicates
where duplicates.event_id not in (
    select event_id
    from {{ ref('stg_landed_events') }}
    where load_status in ('staged', 'sampled_out')
)
