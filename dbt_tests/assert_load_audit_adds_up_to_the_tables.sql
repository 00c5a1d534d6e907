{{ config(meta={'dagster': {'ref': {'name': 'rpt_load_audit'}}}) }}
-- Summed over every load, what the audit says the loads' rows are now is what the tables hold.
with audit as (

    select
        sum(events_staged_now) as staged,
        sum(events_quarantined_now) as quarantined,
        sum(events_duplicate_now) as duplicates,
        sum(events_sampled_out_now) as sampled_out
    from {{ ref('rpt_load_audit') }}

),

tables as (

    select
        count(case when load_status = 'staged' then 1 end) as staged,
        count(case when load_status = 'quarantined' then 1 end) as quarantined,
        count(case when load_status = 'duplicate' then 1 end) as duplicates,
        count(case when load_status = 'sampled_out' then 1 end) as sampled_out
    from {{ ref('stg_landed_events') }}

)

select audit.*
from audit
cross join tables
where audit.staged <> tables.staged
    or audit.quarantined <> tables.quarantined
    or audit.duplicates <> tables.duplicates
    or audit.sampled_out <> tables.sampled_out
