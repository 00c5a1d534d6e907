{#- fct_sessions with the session's start in reporting_time_zone: metric_time of the session metrics
    (docs/metrics.md). Outside UTC a table, so that the wall-clock times do not depend on the reader's session time
    zone (DuckDB converts through it); in UTC nothing is converted and a view costs nothing. -#}
{%- set zone = dwell_reporting_time_zone() %}
{{ config(materialized='view' if zone == dbt.string_literal('UTC') else 'table') }}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

final as (

    select
        sessions.*,
        {{ dwell_utc_to_local('sessions.session_start_at', zone) }} as session_start_local_at
    from sessions

)

select * from final
