{#- A 64-bit floating-point type (dbt.type_float is 32-bit on some engines). -#}
{% macro dwell_type_double() -%}
    {{ return(adapter.dispatch('dwell_type_double', 'dwell')()) }}
{%- endmacro %}

{% macro default__dwell_type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__dwell_type_double() -%}
    double
{%- endmacro %}
