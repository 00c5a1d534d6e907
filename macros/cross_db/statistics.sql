{#- Continuous percentile (aggregate) of seconds: linear interpolation between the two nearest ranks, as
    percentile_cont and pandas' Series.quantile(interpolation='linear'), rounded to 10 nanoseconds. fraction is a
    number in [0, 1]; null over no rows. Engines interpolate with different rounding in the last bits; of whole
    microseconds, a percentile is a multiple of 10 ns for any fraction of up to two decimals, so the rounding makes
    every engine's figure the same double without changing it (exact below about 2.8 years). -#}
{% macro dwell_percentile(expression, fraction) -%}
    round({{ adapter.dispatch('dwell_percentile', 'dwell')(expression, fraction) }} * 100000000)
        / cast(100000000 as {{ dwell_type_double() }})
{%- endmacro %}

{% macro default__dwell_percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__dwell_percentile(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- A short label for a number of seconds: whole hours as 2h, whole minutes as 5m, else seconds (10s, 0.5s). -#}
{% macro dwell_duration_label(seconds) -%}
    {%- if seconds > 0 and seconds % 3600 == 0 -%}{{ (seconds / 3600) | int }}h
    {%- elif seconds > 0 and seconds % 60 == 0 -%}{{ (seconds / 60) | int }}m
    {%- elif seconds == seconds | int -%}{{ seconds | int }}s
    {%- else -%}{{ seconds }}s
    {%- endif -%}
{%- endmacro %}
