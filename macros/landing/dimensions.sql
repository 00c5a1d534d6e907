{#- The dimension files of the landing directory (README "Raw-data contract"): organizations, users, workspaces
    and workspace members, each optional. -#}

{#- Dimension name -> its contract columns (README "Raw-data contract"). -#}
{% macro dwell_dimension_columns() -%}
    {{ return({
        'organizations': ['organization_id', 'name', 'domain', 'plan', 'created_at'],
        'users': ['user_id', 'email', 'first_name', 'last_name', 'company', 'organization_id', 'registered_at'],
        'workspaces': ['workspace_id', 'name', 'organization_id', 'owner_user_id', 'created_at'],
        'workspace_members': ['workspace_id', 'user_id', 'role', 'invited_at'],
    }) }}
{%- endmacro %}

{#- One optional dimension file set: <landing>/<name>.csv|.parquet or <landing>/<name>/**. All columns as text. -#}
{% macro dwell_read_dimension(name) -%}
    {{ return(adapter.dispatch('dwell_read_dimension', 'dwell')(name, dwell_dimension_columns()[name])) }}
{%- endmacro %}

{% macro duckdb__dwell_read_dimension(name, columns) -%}
    {%- set root = dwell_landing_dir() -%}
    {%- set csv_files = dwell_find_files([root ~ '/' ~ name ~ '.csv', root ~ '/' ~ name ~ '/**/*.csv']) -%}
    {%- set parquet_files = dwell_find_files([root ~ '/' ~ name ~ '.parquet', root ~ '/' ~ name ~ '/**/*.parquet']) -%}
    {%- set readers = [] -%}
    {%- if csv_files -%}
        {%- do readers.append('read_csv(' ~ dwell_file_list(csv_files) ~ ', header = true, all_varchar = true, union_by_name = true)') -%}
    {%- endif -%}
    {%- if parquet_files -%}
        {%- do readers.append('read_parquet(' ~ dwell_file_list(parquet_files) ~ ', union_by_name = true)') -%}
    {%- endif -%}
    {%- set branches = [] -%}
    {%- for reader in readers -%}
        {%- set available = dwell_reader_columns(reader) -%}
        {%- set branch -%}
            select
                {%- for column in columns %}
                {{ dwell_text_column(column, available) }} as {{ column }}{% if not loop.last %},{% endif %}
                {%- endfor %}
            from {{ reader }}
        {%- endset -%}
        {%- do branches.append(branch) -%}
    {%- endfor -%}
    {%- if branches -%}
        {{ branches | join('\nunion all\n') }}
    {%- else -%}
        select
            {%- for column in columns %}
            cast(null as varchar) as {{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        where false
    {%- endif -%}
{%- endmacro %}

{% macro default__dwell_read_dimension(name, columns) -%}
    select {{ columns | join(', ') }}
    from {{ source('landing', 'dimensions').incorporate(path={'identifier': name}) }}
{%- endmacro %}
