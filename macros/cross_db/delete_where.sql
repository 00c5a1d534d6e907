{#- Removing rows from an incremental table before its rebuilt rows are appended (macros/rebuild_hooks.sql): the rows
    where predicate holds; every row when predicate is empty. -#}
{% macro dwell_delete_where(relation, predicate) -%}
    {{ return(adapter.dispatch('dwell_delete_where', 'dwell')(relation, predicate)) }}
{%- endmacro %}

{% macro default__dwell_delete_where(relation, predicate) -%}
    delete from {{ relation }}{% if predicate | trim %} where {{ predicate }}{% endif %}
{%- endmacro %}

{#- Spark's Parquet tables cannot delete rows (only Delta, Iceberg and Hudi tables can, and their jars are not at hand),
    so each incremental table that deletes is partitioned by a date (dwell_spark_partition_by): the partitions holding
    a row to delete are overwritten with the rows they keep (insert overwrite, dynamic partition mode), and those
    left with none are dropped. Other partitions are neither read beyond the predicate's columns nor written. Runs as
    the hook is rendered, so the hook itself is empty. -#}
{% macro spark__dwell_delete_where(relation, predicate) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- if not (predicate | trim) -%}
        {%- do dwell_run_statement('truncate table ' ~ relation) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if partition_by is string -%}{%- set partition_by = [partition_by] -%}{%- endif -%}
    {%- if not partition_by or partition_by | length != 1 -%}
        {{ exceptions.raise_compiler_error('dwell_delete_where on spark needs a table partitioned by one column '
            ~ '(dwell_spark_partition_by); ' ~ relation ~ ' has partition_by ' ~ partition_by) }}
    {%- endif -%}
    {%- set column = partition_by[0] -%}
    {#- A row whose predicate is null stays, as with delete. -#}
    {%- set deleted = 'coalesce((' ~ predicate ~ '), false)' -%}
    {%- set touched = run_query(
        'select part, count_if(not is_deleted) as kept_rows from (select ' ~ column ~ ' as part, ' ~ deleted
        ~ ' as is_deleted from ' ~ relation ~ ') group by part having count_if(is_deleted) > 0') -%}
    {%- set kept = [] -%}
    {%- set emptied = [] -%}
    {%- for row in touched.rows -%}
        {%- do (kept if row['kept_rows'] > 0 else emptied).append(row['part']) -%}
    {%- endfor -%}
    {%- if kept -%}
        {%- do dwell_run_statement('set spark.sql.sources.partitionOverwriteMode = DYNAMIC') -%}
        {%- do dwell_run_statement('insert overwrite table ' ~ relation ~ ' partition (' ~ column ~ ') select * from ' ~ relation
            ~ ' where ' ~ dwell_spark_in_partitions(column, kept) ~ ' and not ' ~ deleted) -%}
    {%- endif -%}
    {%- if emptied -%}
        {%- set specs = [] -%}
        {%- for value in emptied -%}
            {%- do specs.append('partition (' ~ column ~ ' = ' ~ dwell_spark_partition_value(value) ~ ')') -%}
        {%- endfor -%}
        {%- do dwell_run_statement('alter table ' ~ relation ~ ' drop if exists ' ~ specs | join(', ')) -%}
    {%- endif -%}
{%- endmacro %}

{#- A partition value as a SQL literal (the partition columns are dates and load ids; null is a partition too). -#}
{% macro dwell_spark_partition_value(value) -%}
    {{ return('null' if value is none else dbt.string_literal(value | string)) }}
{%- endmacro %}

{#- A condition: the row lies in one of the partitions of column with these values. -#}
{% macro dwell_spark_in_partitions(column, values) -%}
    {%- set literals = [] -%}
    {%- for value in values if value is not none -%}
        {%- do literals.append(dwell_spark_partition_value(value)) -%}
    {%- endfor -%}
    {%- set tests = [column ~ ' in (' ~ literals | join(', ') ~ ')'] if literals else [] -%}
    {%- if none in values -%}{%- do tests.append(column ~ ' is null') -%}{%- endif -%}
    {{ return('(' ~ tests | join(' or ') ~ ')') }}
{%- endmacro %}

{#- partition_by of an incremental model that deletes rows: the column on Spark (spark__dwell_delete_where), none on
    engines that delete rows in place. -#}
{% macro dwell_spark_partition_by(column) -%}
    {{ return([column] if target.type == 'spark' else none) }}
{%- endmacro %}
