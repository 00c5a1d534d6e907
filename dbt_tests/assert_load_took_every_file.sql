{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_load_files'}}}) }}
-- Every file this run's load found under events/ is an event file. A file the reader does not take (a .csv, a .txt)
-- is listed, not read: this check warns about it, for this load only, and the run goes on.
select source_file, reason
from {{ ref('rpt_load_files') }}
where load_id = '{{ invocation_id }}'
    and status = 'not_taken'
