{#- The keyword that makes a common table expression read more than once be inlined instead of written out whole:
    DuckDB and PostgreSQL otherwise materialize such a CTE, which at scale spills every column of it to disk. Spark
    always inlines and has no such keyword. -#}
{% macro dwell_inline_cte() -%}
    {{ return(adapter.dispatch('dwell_inline_cte', 'dwell')()) }}
{%- endmacro %}

{% macro default__dwell_inline_cte() -%}
{%- endmacro %}

{% macro duckdb__dwell_inline_cte() -%}
    not materialized
{%- endmacro %}

{% macro postgres__dwell_inline_cte() -%}
    not materialized
{%- endmacro %}
