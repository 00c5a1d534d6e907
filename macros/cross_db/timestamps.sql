{#- Parse text into a UTC timestamp: ISO-8601 with Z, an offset (+05:30) or no zone (UTC). Null when it does not parse. -#}
{% macro dwell_parse_timestamp(text) -%}
    {{ return(adapter.dispatch('dwell_parse_timestamp', 'dwell')(text)) }}
{%- endmacro %}

{% macro default__dwell_parse_timestamp(text) -%}
    cast({{ text }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__dwell_parse_timestamp(text) -%}
    timezone('UTC', try_cast({{ text }} as timestamptz))
{%- endmacro %}

{#- Spark's cast reads more than ISO-8601 (a bare year, for one); only text that starts with a date counts. The
    session time zone is UTC (profiles.yml), so a time without a zone is UTC. -#}
{% macro spark__dwell_parse_timestamp(text) -%}
    case when {{ text }} rlike '^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ]|\\s*$)' then cast({{ text }} as timestamp) end
{%- endmacro %}

{% macro postgres__dwell_parse_timestamp(text) -%}
    {{ target.schema }}.dwell_utc_timestamp({{ text }})
{%- endmacro %}

{#- Microseconds since the epoch as an integer: exact gap arithmetic, no unit-boundary counting. -#}
{% macro dwell_epoch_microseconds(timestamp) -%}
    {{ return(adapter.dispatch('dwell_epoch_microseconds', 'dwell')(timestamp)) }}
{%- endmacro %}

{% macro default__dwell_epoch_microseconds(timestamp) -%}
    cast(round(extract(epoch from {{ timestamp }}) * 1000000) as bigint)
{%- endmacro %}

{% macro duckdb__dwell_epoch_microseconds(timestamp) -%}
    epoch_us({{ timestamp }})
{%- endmacro %}

{% macro spark__dwell_epoch_microseconds(timestamp) -%}
    unix_micros({{ timestamp }})
{%- endmacro %}

{#- The value at the row with the smallest ordering key among rows where the value is not null (aggregate). -#}
{% macro dwell_first_non_null(value, order_by) -%}
    {{ return(adapter.dispatch('dwell_first_non_null', 'dwell')(value, order_by)) }}
{%- endmacro %}

{% macro default__dwell_first_non_null(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }}) filter (where {{ value }} is not null))[1]
{%- endmacro %}

{% macro duckdb__dwell_first_non_null(value, order_by) -%}
    arg_min({{ value }}, {{ order_by }}) filter (where {{ value }} is not null)
{%- endmacro %}

{% macro spark__dwell_first_non_null(value, order_by) -%}
    min_by({{ value }}, {{ order_by }}) filter (where {{ value }} is not null)
{%- endmacro %}

{#- The last non-null value of an expression in a window frame; the caller appends the over clause. -#}
{% macro dwell_last_non_null(value) -%}
    {{ return(adapter.dispatch('dwell_last_non_null', 'dwell')(value)) }}
{%- endmacro %}

{% macro default__dwell_last_non_null(value) -%}
    last_value({{ value }}) ignore nulls
{%- endmacro %}

{% macro duckdb__dwell_last_non_null(value) -%}
    last_value({{ value }} ignore nulls)
{%- endmacro %}

{% macro spark__dwell_last_non_null(value) -%}
    last({{ value }}, true)
{%- endmacro %}

{% macro postgres__dwell_last_non_null(value) -%}
    {{ target.schema }}.dwell_last_non_null({{ value }})
{%- endmacro %}

{#- Sum of durations in seconds that are whole microseconds, exact and independent of row order (a plain sum of
    doubles is not, so incremental and full builds could differ in the last bits). -#}
{% macro dwell_sum_seconds(seconds) -%}
    sum(round({{ seconds }} * 1000000)) / {{ dwell_microseconds_per_second() }}
{%- endmacro %}
