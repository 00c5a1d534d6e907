{#- The keyword that inlines a common table expression read more than once: DuckDB and PostgreSQL otherwise
    materialize it, writing out every row it yields before any reader filters them, which at scale spills to disk.
    Spark always inlines and has no such keyword. -#}
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
