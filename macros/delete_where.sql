{#- Removing rows from an incremental table before its rebuilt rows are appended (macros/rebuild_hooks.sql): the rows
    where predicate holds; every row when predicate is empty. -#}
{% macro dwell_delete_where(relation, predicate) -%}
    {{ return(adapter.dispatch('dwell_delete_where', 'dwell')(relation, predicate)) }}
{%- endmacro %}

{% macro default__dwell_delete_where(relation, predicate) -%}
    delete from {{ relation }}{% if predicate | trim %} where {{ predicate }}{% endif %}
{%- endmacro %}

{#- Spark's Parquet tables cannot delete rows (only Delta, Iceberg and Hudi tables can, and their jars are not at hand):
    the rows to keep are written to a new table that then takes the old one's place (dwell_spark_replace_table).
    That rewrites the table, so a run costs in proportion to the table, not to what changes. Runs as the hook is
    rendered, so the hook itself is empty. -#}
{% macro spark__dwell_delete_where(relation, predicate) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- if predicate | trim -%}
        {#- A row whose predicate is null stays, as with delete. -#}
        {%- do dwell_spark_replace_table(relation,
            'select * from ' ~ relation ~ ' where not coalesce((' ~ predicate ~ '), false)') -%}
    {%- else -%}
        {%- do run_query('truncate table ' ~ relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- relation replaced by the rows of query, which may read relation: the rows go to a new table first, which is then
    renamed into place. -#}
{% macro dwell_spark_replace_table(relation, query) -%}
    {%- set next = relation.incorporate(path={'identifier': relation.identifier ~ '__dwell_next'}) -%}
    {%- do run_query('drop table if exists ' ~ next) -%}
    {%- do run_query('create table ' ~ next ~ ' using parquet as ' ~ query) -%}
    {%- do run_query('drop table ' ~ relation) -%}
    {%- do run_query('alter table ' ~ next ~ ' rename to ' ~ relation) -%}
{%- endmacro %}
