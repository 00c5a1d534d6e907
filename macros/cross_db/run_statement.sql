{#- Run a statement whose result is not read (DDL, DML, settings), on any engine, as run_query does (only when
    executing). run_query fetches a result, and a Spark Thrift server (the spark_thrift target) answers a command such
    as create, insert or drop with one PyHive cannot fetch ("'NoneType' object is not iterable"); dbt's own
    materializations do not fetch there either. -#}
{% macro dwell_run_statement(sql) -%}
    {%- if execute -%}
        {%- do adapter.execute(sql, auto_begin=False, fetch=False) -%}
    {%- endif -%}
{%- endmacro %}
