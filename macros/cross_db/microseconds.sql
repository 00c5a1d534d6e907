{#- Durations are exact in integer microseconds (README "Sessionization rules"): seconds from configuration or
    from a column, and back. -#}

{% macro dwell_microseconds(seconds) -%}
    {%- set microseconds = (seconds * 1000000) | round | int -%}
    {%- if microseconds < 1 -%}
        {{ exceptions.raise_compiler_error("A session duration must be at least one microsecond, got " ~ seconds ~ " s") }}
    {%- endif -%}
    {{ return(microseconds) }}
{%- endmacro %}

{#- Whole microseconds of a seconds value that is whole microseconds (durations, gaps): exact comparisons with
    configured thresholds, free of double rounding. -#}
{% macro dwell_seconds_to_microseconds(seconds) -%}
    cast(round({{ seconds }} * 1000000) as bigint)
{%- endmacro %}

{#- The divisor from microseconds to seconds: a double, so that the quotient is one on every engine (an integer over
    1000000.0 is a decimal on some). -#}
{% macro dwell_microseconds_per_second() -%}
    cast(1000000 as {{ dwell_type_double() }})
{%- endmacro %}
