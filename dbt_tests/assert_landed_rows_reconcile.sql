{{ config(meta={'dagster': {'ref': {'name': 'stg_events'}}}) }}
-- Nothing is dropped silently: every row read is staged, quarantined, a counted duplicate, sampled out or taken back
-- by a retraction.
with rows_read as (

    select count(*) as row_count from {{ ref('base_landing_events') }}

),

outcomes as (

    select
        (select count(*) from {{ ref('stg_events') }}) as staged,
        (select count(*) from {{ ref('stg_events_quarantined') }}) as quarantined,
        (select count(*) from {{ ref('stg_events_duplicates') }}) as duplicates,
        (select count(*) from {{ ref('stg_landed_events') }} where load_status = 'sampled_out') as sampled_out,
        (
            select count(*)
            from {{ ref('base_landing_events') }} as landed
            inner join {{ ref('stg_event_retractions') }} as retraction
                on {{ dwell_retracted_by('landed', 'retraction') }}
        ) as retracted

)

select rows_read.row_count, outcomes.*
from rows_read
cross join outcomes
where rows_read.row_count
    <> outcomes.staged + outcomes.quarantined + outcomes.duplicates + outcomes.sampled_out + outcomes.retracted
