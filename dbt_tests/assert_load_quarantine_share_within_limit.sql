{{ config(meta={'dagster': {'ref': {'name': 'rpt_load_audit'}}}) }}
-- This run's load quarantined no more than max_quarantine_share of the rows it read. Only this load is checked:
-- one bad load fails its own run's check, loudly, and later loads are judged on their own rows.
{%- set limit = dwell_share_setting('max_quarantine_share', var('max_quarantine_share')) %}

select load_id, rows_read, events_quarantined
from {{ ref('rpt_load_audit') }}
where load_id = '{{ invocation_id }}'
    and events_quarantined > {{ limit }} * rows_read
