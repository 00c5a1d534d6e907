{#- fct_workspace_sessions with the start of the dwell session each lies in, in reporting_time_zone: metric_time of
    focus_seconds, so focus time counts, like a session's duration, in the period where its session starts
    (docs/metrics.md). A table outside UTC, as sem_sessions. -#}
{%- set zone = dwell_reporting_time_zone() %}
{{ config(materialized='view' if zone == dbt.string_literal('UTC') else 'table') }}

with workspace_sessions as (

    select * from {{ ref('fct_workspace_sessions') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

final as (

    select
        workspace_sessions.*,
        {{ dwell_utc_to_local('sessions.session_start_at', zone) }} as session_start_local_at
    from workspace_sessions
    inner join sessions
        on workspace_sessions.session_id = sessions.session_id

)

select * from final
