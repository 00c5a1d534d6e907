{#- The landing directory copied for an engine that cannot read it (Postgres, Spark; README "Other engines"):
    orchestration/engines/landing_copy.py runs dwell_export_landing on a scratch DuckDB database, which reads the directory with
    the DuckDB readers (landing_reader.sql, dimensions.sql, retractions.sql), and copies what it writes into the
    engine's landing tables; the default__ readers then read those tables, so the engine reads what DuckDB would have
    read, file errors and non-text columns included. -#}

{#- A run-operation on the duckdb target. Writes into out_dir, as file_format (csv or parquet) files: event_files,
    every file now under the landing directory's events/ but files in flight (source_file, source_file_size,
    source_file_modified_at, and not_taken_reason for a file the event reader does not take); retracted_files, every
    file under retracted/ (README "Retracting a file"); events, the rows of
    the event files whose (path, size, modification time) is not in loaded_files_csv, a CSV file of the same three
    columns; and <dimension> for each dimension, every row of its files. -#}
{% macro dwell_export_landing(out_dir, loaded_files_csv, file_format='csv') %}
    {%- if target.type != 'duckdb' -%}
        {{ exceptions.raise_compiler_error('dwell_export_landing reads the landing directory on the duckdb target, not ' ~ target.type) }}
    {%- endif -%}
    {%- set loaded_files -%}
        read_csv({{ dbt.string_literal(loaded_files_csv) }}, header = true, columns = {
            'source_file': 'VARCHAR', 'source_file_size': 'BIGINT', 'source_file_modified_at': 'TIMESTAMP'})
    {%- endset -%}
    {#- The landing tables hold text, as every engine's reader of them expects: typed timestamps go out as text. -#}
    {%- set timestamp_columns = dwell_event_timestamp_columns() -%}
    {%- set events -%}
        select * exclude ({% for column in timestamp_columns %}{{ column }}_timestamp{% if not loop.last %}, {% endif %}{% endfor %})
            replace ({% for column in timestamp_columns %}coalesce({{ column }}, {{ dwell_timestamp_text(column ~ '_timestamp') }}) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
        from ({{ dwell_read_landed_events(already_loaded=loaded_files) }}) as landed
    {%- endset -%}
    {%- set event_files -%}
        select source_file, source_file_size, source_file_modified_at, not_taken_reason
        from ({{ duckdb__dwell_landing_files() }}) as found
    {%- endset -%}
    {%- set exports = {'events': events, 'event_files': event_files,
                       'retracted_files': duckdb__dwell_read_retracted_files()} -%}
    {%- for name in dwell_dimension_columns() -%}
        {%- do exports.update({name: dwell_read_dimension(name)}) -%}
    {%- endfor -%}
    {%- set options = {
        'csv': "(format csv, header true, timestampformat '%Y-%m-%d %H:%M:%S.%f')",
        'parquet': '(format parquet)',
    } -%}
    {%- if file_format not in options -%}
        {{ exceptions.raise_compiler_error('dwell_export_landing writes csv or parquet, not ' ~ file_format) }}
    {%- endif -%}
    {%- for name, query in exports.items() -%}
        {%- do run_query('copy (' ~ query ~ ') to ' ~ dbt.string_literal(out_dir ~ '/' ~ name ~ '.' ~ file_format)
                         ~ ' ' ~ options[file_format]) -%}
    {%- endfor -%}
{% endmacro %}

{#- The spark target's landing tables: Parquet tables on the files `dwell copy-landing` writes under
    DWELL_SPARK_DIR/landing (orchestration/engines/landing_copy.py), one folder per table. Declared with their columns, so
    they read as empty before the first copy, as the duckdb target reads an empty landing directory; refreshed before
    every run, since Spark keeps a table's file list and a copy adds and replaces files. -#}
{% macro dwell_spark_landing_tables() -%}
    {%- set tables = {
        'events': dwell_event_columns() + ['source_file', 'source_format', 'source_line_number', 'raw_line',
                                           'file_error', 'non_text_columns', 'source_file_size',
                                           'source_file_modified_at'],
        'event_files': ['source_file', 'source_file_size', 'source_file_modified_at', 'not_taken_reason'],
        'retracted_files': ['retracted_file', 'retracted_file_size', 'retracted_file_modified_at'],
    } -%}
    {%- do tables.update(dwell_dimension_columns()) -%}
    {{ return(tables) }}
{%- endmacro %}

{#- A folder under DWELL_SPARK_DIR as the Spark engine names it: under DWELL_SPARK_DIR_URI when set (a cluster that
    sees the folder under another name; orchestration/settings.py spark_dir_uri). -#}
{% macro dwell_spark_location(path) -%}
    {%- set root = env_var('DWELL_SPARK_DIR_URI', '') | trim -%}
    {{ return((root.rstrip('/') if root else env_var('DWELL_SPARK_DIR', 'data/spark')) ~ '/' ~ path) }}
{%- endmacro %}

{#- A Parquet table on a folder that Python writes, at its location now: a table declared before
    DWELL_SPARK_DIR_URI changed moves with it, and one declared before a column was added gains it (null in the files
    written before). Refreshed, since Spark keeps a table's file list. -#}
{% macro dwell_spark_folder_table(table, definitions, path) -%}
    {%- set location = dbt.string_literal(dwell_spark_location(path)) -%}
    {%- do run_query('create table if not exists ' ~ table ~ ' (' ~ definitions | join(', ')
                     ~ ') using parquet location ' ~ location) -%}
    {%- do run_query('alter table ' ~ table ~ ' set location ' ~ location) -%}
    {%- set existing = run_query('select * from ' ~ table ~ ' limit 0').column_names | map('lower') | list -%}
    {%- set added = [] -%}
    {%- for definition in definitions if definition.split(' ')[0] | lower not in existing -%}
        {%- do added.append(definition) -%}
    {%- endfor -%}
    {%- if added -%}
        {%- do run_query('alter table ' ~ table ~ ' add columns (' ~ added | join(', ') ~ ')') -%}
    {%- endif -%}
    {%- do run_query('refresh table ' ~ table) -%}
{%- endmacro %}

