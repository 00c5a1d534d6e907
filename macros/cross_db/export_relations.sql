{#- Writes relations as Parquet folders out_dir/<schema>.<name>, for Python to read what the spark target built
    (orchestration/targets.py). relations: "schema.name", or "schema.*" for every table and view of a schema.
    `dbt run-operation dwell_export_relations --target spark --args '{relations: [marts.*], out_dir: /tmp/x}'` -#}
{% macro dwell_export_relations(relations, out_dir) %}
    {{ return(adapter.dispatch('dwell_export_relations', 'dwell')(relations, out_dir)) }}
{% endmacro %}

{% macro default__dwell_export_relations(relations, out_dir) %}
    {{ exceptions.raise_compiler_error(
        "dwell_export_relations is for the spark target; Python reads " ~ target.type ~ " directly") }}
{% endmacro %}

{% macro spark__dwell_export_relations(relations, out_dir) %}
    {%- for relation in relations -%}
        {%- set schema, name = relation.split('.', 1) -%}
        {%- if name == '*' -%}
            {%- set names = run_query('show tables in ' ~ schema).columns['tableName'].values() -%}
        {%- else -%}
            {%- set names = [name] -%}
        {%- endif -%}
        {%- for each in names -%}
            {%- set select_list = [] -%}
            {%- set described = namespace(columns_done=false) -%}
            {%- for row in run_query('describe ' ~ schema ~ '.' ~ each) -%}
                {#- describe lists the columns, then partition details after a blank or '#' row. Timestamps are
                    written as wall-clock UTC (the session's zone), as the duckdb target's timestamps hold them. -#}
                {%- if row['col_name'] == '' or row['col_name'].startswith('#') -%}
                    {%- set described.columns_done = true -%}
                {%- elif described.columns_done -%}
                {%- elif row['data_type'] == 'timestamp' -%}
                    {%- do select_list.append('cast(`' ~ row['col_name'] ~ '` as timestamp_ntz) as `' ~ row['col_name'] ~ '`') -%}
                {%- else -%}
                    {%- do select_list.append('`' ~ row['col_name'] ~ '`') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do dwell_run_statement('insert overwrite directory ' ~ dbt.string_literal(out_dir ~ '/' ~ schema ~ '.' ~ each)
                             ~ ' using parquet select ' ~ select_list | join(', ') ~ ' from ' ~ schema ~ '.' ~ each) -%}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}
