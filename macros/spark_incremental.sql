{#- dbt-spark 1.11 offers append, insert_overwrite, and merge only on Delta, Iceberg and Hudi tables. dwell's models on
    plain Parquet tables also use delete+insert (stg_landed_events): the rows whose unique_key the new rows hold are
    replaced by the new rows, the whole table rewritten (dwell_spark_replace_table). These two macros are dbt-spark's
    own, looked up by the incremental materialization by name, so the project's versions come first. -#}
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
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | join(', ') -%}
    {%- do dwell_spark_replace_table(target,
        'select ' ~ columns ~ ' from ' ~ target ~ ' as kept where not exists (select 1 from ' ~ source
        ~ ' as replacing where replacing.' ~ unique_key ~ ' = kept.' ~ unique_key ~ ')'
        ~ ' union all select ' ~ columns ~ ' from ' ~ source) -%}
    {{ return('select 1') }}
{%- endmacro %}
