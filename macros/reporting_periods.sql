{#- Reporting periods (README: "Workspace and user analytics"): day, week (from Monday) and month in the
    reporting_time_zone var, plus one lifetime period. -#}

{#- The validated reporting_time_zone var, as a SQL literal. -#}
{% macro dwell_reporting_time_zone() -%}
    {{ return(dwell_time_zone_setting('reporting_time_zone', var('reporting_time_zone'))) }}
{%- endmacro %}

{#- A UTC timestamp as wall-clock time in a zone (zone: a SQL literal). -#}
{% macro dwell_utc_to_local(timestamp, zone) -%}
    {{ return(adapter.dispatch('dwell_utc_to_local', 'dwell')(timestamp, zone)) }}
{%- endmacro %}

{% macro default__dwell_utc_to_local(timestamp, zone) -%}
    (({{ timestamp }} at time zone 'UTC') at time zone {{ zone }})
{%- endmacro %}

{% macro duckdb__dwell_utc_to_local(timestamp, zone) -%}
    timezone({{ zone }}, cast({{ timestamp }} as timestamptz))
{%- endmacro %}

{#- Wall-clock time in a zone as a UTC timestamp. -#}
{% macro dwell_local_to_utc(timestamp, zone) -%}
    {{ return(adapter.dispatch('dwell_local_to_utc', 'dwell')(timestamp, zone)) }}
{%- endmacro %}

{% macro default__dwell_local_to_utc(timestamp, zone) -%}
    (({{ timestamp }} at time zone {{ zone }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__dwell_local_to_utc(timestamp, zone) -%}
    timezone('UTC', timezone({{ zone }}, {{ timestamp }}))
{%- endmacro %}

{#- The quarter hour (UTC) a timestamp falls in. Every zone's offset is a whole number of quarter hours and its
    changes happen on quarter hours, so all of a quarter hour lies on one local date in any zone. -#}
{% macro dwell_quarter_hour(timestamp) -%}
    {{ return(adapter.dispatch('dwell_quarter_hour', 'dwell')(timestamp)) }}
{%- endmacro %}

{% macro default__dwell_quarter_hour(timestamp) -%}
    {{ dbt.dateadd('minute', '15 * cast(floor(extract(minute from ' ~ timestamp ~ ') / 15) as integer)', dbt.date_trunc('hour', timestamp)) }}
{%- endmacro %}

{% macro duckdb__dwell_quarter_hour(timestamp) -%}
    time_bucket(interval 15 minutes, {{ timestamp }})
{%- endmacro %}

{#- Start of the period (a date) of grain day, week or month that a local timestamp falls in. -#}
{% macro dwell_period_start(grain, local_timestamp) -%}
    {%- if grain == 'day' -%}
        cast({{ local_timestamp }} as date)
    {%- else -%}
        cast({{ dbt.date_trunc(grain, local_timestamp) }} as date)
    {%- endif -%}
{%- endmacro %}

{#- Every row of a relation (or CTE) once per grain, with grain and period_start (null for lifetime) in front: the
    period its timestamp (UTC) falls in, in zone. -#}
{% macro dwell_in_periods(relation, timestamp, zone) -%}
    {%- for grain in ['day', 'week', 'month'] %}
    select
        '{{ grain }}' as grain,
        {{ dwell_period_start(grain, dwell_utc_to_local(relation ~ '.' ~ timestamp, zone)) }} as period_start,
        {{ relation }}.*
    from {{ relation }}

    union all
    {% endfor %}
    select
        'lifetime' as grain,
        cast(null as date) as period_start,
        {{ relation }}.*
    from {{ relation }}
{%- endmacro %}
