{{ config(meta={'dagster': {'ref': {'name': 'rpt_load_audit'}}}) }}
-- Every file this run's load found could be read. An unreadable file (empty, truncated, another format) is
-- quarantined with its name and the rest of the load goes on; this check then fails loudly, for this load only.
select load_id, files_unreadable
from {{ ref('rpt_load_audit') }}
where load_id = '{{ invocation_id }}'
    and files_unreadable > 0
