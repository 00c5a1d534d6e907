{#- Reporting periods (README: "Workspace and user analytics"): day, week (from Monday) and month in the
    reporting_time_zone var, plus one lifetime period. -#}

{#- The validated reporting_time_zone var, as a SQL literal. -#}
{% macro dwell_reporting_time_zone() -%}
    {{ return(dwell_time_zone_setting('reporting_time_zone', var('reporting_time_zone'))) }}
{%- endmacro %}

{#- A UTC timestamp as wall-clock time in a zone (zone: a SQL literal). In UTC itself nothing is converted: per row,
    a conversion costs more than the rest of a period report's work. -#}
{% macro dwell_utc_to_local(timestamp, zone) -%}
    {%- if zone == dbt.string_literal('UTC') -%}{{ return(timestamp) }}{%- endif -%}
    {{ return(adapter.dispatch('dwell_utc_to_local', 'dwell')(timestamp, zone)) }}
{%- endmacro %}

{% macro default__dwell_utc_to_local(timestamp, zone) -%}
    (({{ timestamp }} at time zone 'UTC') at time zone {{ zone }})
{%- endmacro %}

{% macro duckdb__dwell_utc_to_local(timestamp, zone) -%}
    timezone({{ zone }}, cast({{ timestamp }} as timestamptz))
{%- endmacro %}

{% macro spark__dwell_utc_to_local(timestamp, zone) -%}
    from_utc_timestamp({{ timestamp }}, {{ zone }})
{%- endmacro %}

{#- Wall-clock time in a zone as a UTC timestamp. -#}
{% macro dwell_local_to_utc(timestamp, zone) -%}
    {%- if zone == dbt.string_literal('UTC') -%}{{ return(timestamp) }}{%- endif -%}
    {{ return(adapter.dispatch('dwell_local_to_utc', 'dwell')(timestamp, zone)) }}
{%- endmacro %}

{% macro default__dwell_local_to_utc(timestamp, zone) -%}
    (({{ timestamp }} at time zone {{ zone }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__dwell_local_to_utc(timestamp, zone) -%}
    timezone('UTC', timezone({{ zone }}, {{ timestamp }}))
{%- endmacro %}

{% macro spark__dwell_local_to_utc(timestamp, zone) -%}
    to_utc_timestamp({{ timestamp }}, {{ zone }})
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
    period its timestamp (UTC) falls in, in zone. With a scope (dwell_rebuilt_periods), only the periods it
    rebuilds: the scoped users' rows, of the day, week and month grains in the periods starting on or after the
    user's day_from, week_from and month_from (null: all), and lifetime. -#}
{% macro dwell_in_periods(relation, timestamp, zone, scope=none) -%}
    {%- for grain in ['day', 'week', 'month', 'lifetime'] %}
    {%- set period_start = 'cast(null as date)' if grain == 'lifetime'
        else dwell_period_start(grain, dwell_utc_to_local(relation ~ '.' ~ timestamp, zone)) %}
    select
        '{{ grain }}' as grain,
        {{ period_start }} as period_start,
        {{ relation }}.*
    from {{ relation }}
    {%- if scope is not none %}
    inner join {{ scope }}
        on {{ relation }}.user_id = {{ scope }}.user_id
    {%- if grain != 'lifetime' %}
    -- A plain UTC cut two days before the period's local start (zones are less than a day off UTC) spares older
    -- rows the zone conversion; the exact test follows.
    where {{ scope }}.{{ grain }}_from is null
        or ({{ relation }}.{{ timestamp }} >= {{ dwell_local_to_utc('cast(' ~ dbt.dateadd('day', -2, scope ~ '.' ~ grain ~ '_from') ~ ' as timestamp)', zone) }}
            and {{ period_start }} >= {{ scope }}.{{ grain }}_from)
    {%- endif %}
    {%- endif %}
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The periods a run's changes reach, per user of int_session_user_scope (every change lies at or after the user's
    rebuild point): the first day, week and month, local dates in zone, that hold the rebuild point, and all after
    them. Null: all the user's periods. -#}
{% macro dwell_rebuilt_periods(zone) -%}
    select
        user_id,
        {%- for grain in ['day', 'week', 'month'] %}
        {{ dwell_period_start(grain, dwell_utc_to_local('rebuild_from_at', zone)) }} as {{ grain }}_from{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_session_user_scope') }}
{%- endmacro %}
