{{ config(meta={'dagster': {'ref': {'name': 'stg_events'}}}) }}
-- Nothing is dropped silently: every row read is staged, quarantined, a counted duplicate or sampled out.
with rows_read as (

    select count(*) as row_count from {{ ref('base_landing_events') }}

),

outcomes as (

    select
        (select count(*) from {{ ref('stg_events') }}) as staged,
        (select count(*) from {{ ref('stg_events_quarantined') }}) as quarantined,
        (select count(*) from {{ ref('stg_events_duplicates') }}) as duplicates,
        (select count(*) from {{ ref('stg_landed_events') }} where load_status = 'sampled_out') as sampled_out

)

select rows_read.row_count, outcomes.staged, outcomes.quarantined, outcomes.duplicates, outcomes.sampled_out
from rows_read
cross join outcomes
where rows_read.row_count <> outcomes.staged + outcomes.quarantined + outcomes.duplicates + outcomes.sampled_out
