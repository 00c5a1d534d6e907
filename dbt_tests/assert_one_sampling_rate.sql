{{ config(meta={'dagster': {'ref': {'name': 'rpt_load_audit'}}}) }}
-- Changing sampling_rate needs a full refresh: incremental loads never revisit the users an earlier rate kept or
-- left out, so loads under two rates would mix two samples. A full refresh starts the load history again.
select count(distinct sampling_rate) as sampling_rates
from {{ ref('rpt_load_audit') }}
having count(distinct sampling_rate) > 1
