{#- The counted events of fct_session_events with their time in reporting_time_zone: metric_time of active_users
    (docs/metrics.md). Only the columns the semantic layer reads, without the event id and the UTC time: the serving
    copy publishes it as a table beside fct_session_events, at about a third of that mart's size. A table outside
    UTC, as sem_sessions. -#}
{%- set zone = dwell_reporting_time_zone() %}
{{ config(materialized='view' if zone == dbt.string_literal('UTC') else 'table') }}

with events as (

    select * from {{ ref('fct_session_events') }}

),

final as (

    select
        events.session_id,
        events.user_id,
        events.organization_id,
        events.workspace_id,
        events.event_name,
        events.category,
        events.platform,
        {{ dwell_utc_to_local('events.occurred_at', zone) }} as occurred_local_at
    from events

)

select * from final
