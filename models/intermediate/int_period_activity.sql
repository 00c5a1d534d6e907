{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ dwell_delete_rebuilt_periods(by_user=false) }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Distinct active workspaces and projects per grain and period over all users, for rpt_period_summary (distinct
    counts do not add up from the per-user periods). Incremental: the pre-hook deletes the periods from those that
    hold the earliest rebuild point of the run (int_session_user_scope), and lifetime, and this model counts them
    again. A full build, or a new reporting_time_zone, rebuilds every row. #}

{%- set zone = dwell_reporting_time_zone() %}
{%- set scope = none if dwell_rebuilds_every_period(zone) else 'scope' %}

with activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

{% if scope is not none -%}
scope as (

    {{ dwell_rebuilt_periods(zone, by_user=false) | indent(4) }}

),

{% endif -%}

activity_periods as (

    {{ dwell_in_periods('activity', 'quarter_hour_at', zone, scope, by_user=false) | indent(4) }}

),

final as (

    select
        grain,
        period_start,
        {{ zone }} as time_zone,
        count(distinct workspace_id) as active_workspace_count,
        count(distinct project_id) as active_project_count
    from activity_periods
    group by grain, period_start

)

select * from final
