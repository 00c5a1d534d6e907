{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('event_date'),
    pre_hook="{{ dwell_delete_touched_event_days() }}",
) }}

-- depends_on: {{ ref('stg_landed_events') }}, {{ ref('stg_event_retractions') }}

{# The staged events summed per user, workspace and UTC day: the lifetime dimensions aggregate these rows, about a
   twentieth of the events at the sample's density, instead of every event on every run. Each sum, minimum and
   maximum merges across days, and a workspace's users stay distinct through the user column. A run rebuilds the
   (user, day) pairs whose events it may change (dwell_touched_event_days), reading only the events of their days. #}

{%- set every_day = dwell_rebuilds_every_event_day() %}

with events as (

    select * from {{ ref('stg_events') }}

),

{% if every_day -%}
scoped_events as (

    select * from events

),
{%- else -%}
touched_days as (

    {{ dwell_touched_event_days() | indent(4) }}

),

{#- The touched days' span as constants: the scan then skips the stored row groups outside it, where a join alone
    reads every event's user and time. #}
{%- set span = run_query('select min(event_date), max(event_date) from (' ~ dwell_touched_event_days() ~ ') as touched')
    if execute else none %}
{%- set first_day, last_day = (span.rows[0][0], span.rows[0][1]) if span else (none, none) %}

scoped_events as (

    select events.*
    from events
    inner join touched_days
        on events.user_id = touched_days.user_id
        and cast(events.occurred_at as date) = touched_days.event_date
    {%- if first_day is none %}
    where 1 = 0
    {%- else %}
    where events.occurred_at >= cast('{{ first_day }}' as {{ dbt.type_timestamp() }})
        and events.occurred_at < {{ dbt.dateadd('day', 1, "cast('" ~ last_day ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif %}

),
{%- endif %}

final as (

    select
        user_id,
        workspace_id,
        cast(occurred_at as date) as event_date,
        count(*) as event_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        {{ dwell_first_non_null('organization_id', 'occurred_at') }} as first_organization_id,
        min(case when organization_id is not null then occurred_at end) as first_organization_at
    from scoped_events
    group by user_id, workspace_id, cast(occurred_at as date)

)

select * from final
