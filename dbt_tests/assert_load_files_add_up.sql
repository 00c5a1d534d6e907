{{ config(meta={'dagster': {'ref': {'name': 'rpt_load_files'}}}) }}
-- Every row this run's load read is listed under the file it came from.
with files as (

    select coalesce(sum(rows_read), 0) as rows_read
    from {{ ref('rpt_load_files') }}
    where load_id = '{{ invocation_id }}'

),

audit as (

    select rows_read
    from {{ ref('rpt_load_audit') }}
    where load_id = '{{ invocation_id }}'

)

select audit.rows_read as audit_rows_read, files.rows_read as file_rows_read
from audit
cross join files
where audit.rows_read <> files.rows_read
