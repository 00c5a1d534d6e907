{{ config(
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# One row per session and custom metric of the session_metrics var (README "Session metrics"). Incremental: the
    sessions this run changes are measured again from their events; the others keep their rows. #}

{%- set metrics = dwell_session_metric_definitions(var('session_metrics')) %}
{%- set property_metrics = metrics | selectattr('aggregation', 'equalto', 'sum') | list %}
{#- Only the events a sum metric counts need their properties, unless one sum metric counts every event. #}
{%- set property_event_names = [] %}
{%- set every_event_metrics = [] %}
{%- for metric in property_metrics %}
    {%- if 'event_names' in metric %}
        {%- do property_event_names.extend(metric['event_names']) %}
    {%- else %}
        {%- do every_event_metrics.append(metric['name']) %}
    {%- endif %}
{%- endfor %}

with session_events as (

    {{ dwell_changed_session_events() }}

),

{% if property_metrics -%}
event_properties as (

    select event_id, properties
    from {{ ref('stg_events') }}
    where true
        {%- if not every_event_metrics %}
        and {{ dwell_in_list('event_name', property_event_names | unique | list) }}
        {%- endif %}
        {%- if is_incremental() %}
        and event_id in (select event_id from session_events)
        {%- endif %}

),

measured_events as (

    select session_events.*, event_properties.properties
    from session_events
    left join event_properties
        on session_events.event_id = event_properties.event_id

),
{%- else -%}
measured_events as (

    select * from session_events

),
{%- endif %}

{% if metrics -%}
-- One pass over the events computes every metric of a session; the rows per metric come from the sessions.
per_session as (

    select
        session_id,
        user_id,
        session_date
        {%- for metric in metrics %},
        {{ dwell_session_metric_value(metric) }} as metric_{{ loop.index }}
        {%- endfor %}
    from measured_events
    group by session_id, user_id, session_date

),
{%- endif %}

final as (

    {% for metric in metrics -%}
    select
        session_id,
        user_id,
        cast({{ dbt.string_literal(metric['name']) }} as {{ dbt.type_string() }}) as metric_name,
        cast(metric_{{ loop.index }} as {{ dwell_type_double() }}) as metric_value,
        session_date
    from per_session
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as session_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as metric_name,
        cast(null as {{ dwell_type_double() }}) as metric_value,
        cast(null as date) as session_date
    where false
    {%- endfor %}

)

select * from final
