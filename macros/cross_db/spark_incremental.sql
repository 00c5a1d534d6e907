{#- dbt-spark 1.11 offers append, insert_overwrite, and merge only on Delta, Iceberg and Hudi tables. dwell's models on
    plain Parquet tables also use delete+insert (stg_landed_events): the rows whose unique_key the new rows hold are
    removed as spark__dwell_delete_where removes rows (the partitions holding them overwritten), then the new rows
    appended. The new rows are written to a table first, since the model reads its own earlier rows. These two macros
    are dbt-spark's own, looked up by the incremental materialization by name, so the project's versions come first. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'delete+insert' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy != 'delete+insert' -%}
        {{ return(dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) }}
    {%- endif -%}
    {%- if unique_key is none or unique_key is not string -%}
        {{ exceptions.raise_compiler_error('delete+insert on spark takes one unique_key column, got ' ~ unique_key) }}
    {%- endif -%}
    {%- set new_rows = target.incorporate(path={'identifier': target.identifier ~ '__dwell_new'}) -%}
    {%- do dwell_run_statement('drop table if exists ' ~ new_rows) -%}
    {%- do dwell_run_statement('create table ' ~ new_rows ~ ' using parquet as select * from ' ~ source) -%}
    {%- do dwell_delete_where(target, unique_key ~ ' in (select ' ~ unique_key ~ ' from ' ~ new_rows ~ ')') -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | join(', ') -%}
    {%- do dwell_run_statement('insert into ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ new_rows) -%}
    {%- do dwell_run_statement('drop table ' ~ new_rows) -%}
    {{ return('select 1') }}
{%- endmacro %}
