{#- Reading the landing directory (README: "Raw-data contract"). Files are discovered when the model runs,
    so either kind of event file, and every dimension file, may be absent. -#}

{% macro dwell_event_columns() -%}
    {{ return(['event_id', 'occurred_at', 'received_at', 'user_id', 'event_name', 'organization_id',
               'workspace_id', 'project_id', 'platform', 'page', 'session_id', 'properties']) }}
{%- endmacro %}

{#- The contract columns that hold text (ids, names, pages). A number, boolean, object or array landed in one of
    them is recorded in base_landing_events.non_text_columns and quarantines the row. -#}
{% macro dwell_event_text_columns() -%}
    {{ return(['event_id', 'user_id', 'event_name', 'organization_id', 'workspace_id', 'project_id', 'platform',
               'page', 'session_id']) }}
{%- endmacro %}

{#- A SQL expression: the comma-separated names of the columns whose `is_not_text` condition holds, or null. -#}
{% macro dwell_non_text_column_list(is_not_text) -%}
    nullif(concat_ws(','
        {%- for column in dwell_event_text_columns() %},
        case when {{ is_not_text[column] }} then '{{ column }}' end
        {%- endfor %}
    ), '')
{%- endmacro %}

{% macro dwell_landing_dir() -%}
    {%- set landing_dir = var('landing_dir') | string | trim -%}
    {%- if landing_dir == '' -%}
        {{ exceptions.raise_compiler_error("var landing_dir (env DWELL_LANDING_DIR) must not be empty") }}
    {%- endif -%}
    {{ return(landing_dir.rstrip('/') if landing_dir != '/' else landing_dir) }}
{%- endmacro %}

{#- Sorted paths matching any of the glob patterns, on the duckdb target (the one that reads files); empty while
    parsing. -#}
{% macro dwell_find_files(patterns) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct file from (
        {%- for pattern in patterns %}
            select file from glob({{ dbt.string_literal(pattern) }}){% if not loop.last %} union all{% endif %}
        {%- endfor %}
        ) order by file
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro dwell_file_list(files) -%}
    [{% for file in files %}{{ dbt.string_literal(file) }}{% if not loop.last %}, {% endif %}{% endfor %}]
{%- endmacro %}

{#- Lower-cased column name -> type of a file reader expression. -#}
{% macro dwell_reader_columns(reader) -%}
    {%- set columns = {} -%}
    {%- for row in run_query('describe select * from ' ~ reader) -%}
        {%- do columns.update({(row[0] | lower): row[1] | upper}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The contract's timestamp columns: base_landing_events keeps a typed one as a timestamp beside its text column. -#}
{% macro dwell_event_timestamp_columns() -%}
    {{ return(['occurred_at', 'received_at']) }}
{%- endmacro %}

{#- A column a file stores as a timestamp or date, as its instant in UTC (a timestamp without a zone is UTC); none
    for a column of another type. Kept typed, it skips a render to text and a parse back for every row. -#}
{% macro dwell_typed_timestamp(name, available) -%}
    {%- set type = available.get(name) -%}
    {%- if type is not none and (type.startswith('TIMESTAMP') or type == 'DATE') -%}
        {%- set instant -%}timezone('UTC', cast("{{ name }}" as timestamptz)){%- endset -%}
        {{ return(instant) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- A timestamp column's value (UTC) as text with its offset, the way a landed timestamp reads. -#}
{% macro dwell_timestamp_text(column) -%}
    {{ return(adapter.dispatch('dwell_timestamp_text', 'dwell')(column)) }}
{%- endmacro %}

{% macro default__dwell_timestamp_text(column) -%}
    {{ dbt.concat(['cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')', "'+00'"]) }}
{%- endmacro %}

{% macro duckdb__dwell_timestamp_text(column) -%}
    cast(timezone('UTC', {{ column }}) as varchar)
{%- endmacro %}

{#- Every contract column as text, typed timestamps keeping their instant, absent columns as null. -#}
{% macro dwell_text_column(name, available) -%}
    {%- set type = available.get(name) -%}
    {%- if type is none -%}
        cast(null as varchar)
    {%- elif type.startswith('TIMESTAMP') or type == 'DATE' -%}
        cast(cast("{{ name }}" as timestamptz) as varchar)
    {%- elif type in ('VARCHAR', 'JSON') -%}
        cast("{{ name }}" as varchar)
    {%- elif name == 'properties' or type.startswith('STRUCT') or type.startswith('MAP') or type.endswith('[]') -%}
        cast(to_json("{{ name }}") as varchar)
    {%- else -%}
        cast("{{ name }}" as varchar)
    {%- endif -%}
{%- endmacro %}

{#- One row per row read from the landed event files, every contract column as text, with the file it came
    from (path, size, modification time), the load that read it, and, for a JSON line read line by line, its number
    and (when it is not a JSON object) its text. A timestamp column a Parquet file stores typed is in
    <column>_timestamp (UTC), its text column null. With already_loaded (the relation this macro filled before),
    files already read with the same size and modification time are skipped. -#}
{% macro dwell_read_landed_events(already_loaded=none) -%}
    {{ return(adapter.dispatch('dwell_read_landed_events', 'dwell')(already_loaded)) }}
{%- endmacro %}

{#- True when already_loaded holds no file with this path, size and modification time: a file re-landed with
    other contents (another size or time) loads again. Times compare as whole microseconds, so a file listing's
    time with a zone equals the stored time without one. -#}
{% macro dwell_file_not_loaded(already_loaded, path, size, modified_at) -%}
    not exists (
        select 1
        from {{ already_loaded }} as loaded
        where loaded.source_file = {{ path }}
            and loaded.source_file_size = {{ size }}
            and {{ dwell_epoch_microseconds('loaded.source_file_modified_at') }}
                = {{ dwell_epoch_microseconds(modified_at) }}
    )
{%- endmacro %}

{#- The event files not yet in already_loaded, as rows with source_file, source_file_size, modified_us,
    source_format, compression, json_layout (dwell_json_layout: `lines`, or `array` for a .json file holding a JSON
    array) and file_error. file_error (dwell_event_file_error, orchestration/engines/duckdb_functions.py) is null for a file
    that reads whole, else why not: an empty, truncated, corrupt or foreign Parquet file, a gzip file cut short, or a
    JSON array that does not parse, is reported instead of failing the load or loading part of it. -#}
{% macro duckdb__dwell_files_to_load(already_loaded) -%}
    {%- set query -%}
        select
            found.source_file,
            found.source_file_size,
            epoch_us(found.source_file_modified_at) as modified_us,
            found.source_format,
            found.compression,
            case when found.source_format = 'json' then dwell_json_layout(found.source_file) end as json_layout,
            dwell_event_file_error(found.source_file) as file_error
        from ({{ duckdb__dwell_landing_files() }}) as found
        where found.source_format is not null
        {%- if already_loaded is not none %}
            and {{ dwell_file_not_loaded(already_loaded, 'found.source_file', 'found.source_file_size',
                                         'found.source_file_modified_at') }}
        {%- endif %}
        order by found.source_file
    {%- endset -%}
    {{ return(run_query(query).rows | list if execute else []) }}
{%- endmacro %}

{#- Text column name -> the Parquet files among `files` that store it as something else: a number or boolean
    column, or a nested one (struct, list, map). -#}
{% macro duckdb__dwell_parquet_non_text_files(files) -%}
    {%- set query -%}
        select distinct lower(split_part(path_in_schema, ', ', 1)) as column_name, file_name
        from parquet_metadata({{ dwell_file_list(files) }})
        where lower(split_part(path_in_schema, ', ', 1)) in (
            {%- for column in dwell_event_text_columns() %}{{ dbt.string_literal(column) }}{% if not loop.last %}, {% endif %}{% endfor -%}
        )
            and (path_in_schema like '%, %' or type <> 'BYTE_ARRAY')
        order by all
    {%- endset -%}
    {%- set by_column = {} -%}
    {%- for column_name, file_name in run_query(query).rows -%}
        {%- do by_column.setdefault(column_name, []).append(file_name) -%}
    {%- endfor -%}
    {{ return(by_column) }}
{%- endmacro %}

{% macro duckdb__dwell_read_landed_events(already_loaded) -%}
    {%- set columns = dwell_event_columns() -%}
    {%- set parquet_files, json_files, unreadable_files = [], [], [] -%}
    {%- for file in duckdb__dwell_files_to_load(already_loaded) -%}
        {%- if file.file_error is not none -%}
            {%- do unreadable_files.append(file) -%}
        {%- else -%}
            {%- do (parquet_files if file.source_format == 'parquet' else json_files).append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set branches = [] -%}

    {%- if parquet_files -%}
        {%- set paths = parquet_files | map(attribute='source_file') | list -%}
        {%- set reader = 'read_parquet(' ~ dwell_file_list(paths) ~ ', union_by_name = true, filename = true)' -%}
        {%- set available = dwell_reader_columns(reader) -%}
        {#- Per file: union_by_name turns a number column of one file into text when another file has text there. -#}
        {%- set non_text_files = duckdb__dwell_parquet_non_text_files(paths) -%}
        {%- set is_not_text = {} -%}
        {%- for column in dwell_event_text_columns() -%}
            {%- set files = non_text_files.get(column, []) -%}
            {%- do is_not_text.update({column: '(' ~ dwell_in_list('filename', files) ~ ' and "' ~ column ~ '" is not null)'
                                       if files else 'false'}) -%}
        {%- endfor -%}
        {%- set branch -%}
            select
                {%- for column in columns %}
                {% if dwell_typed_timestamp(column, available) is none %}{{ dwell_text_column(column, available) }}{% else %}cast(null as varchar){% endif %} as {{ column }},
                {%- endfor %}
                filename as source_file,
                'parquet' as source_format,
                cast(null as bigint) as source_line_number,
                cast(null as varchar) as raw_line,
                cast(null as varchar) as file_error,
                {{ dwell_non_text_column_list(is_not_text) }} as non_text_columns,
                {%- for column in dwell_event_timestamp_columns() %}
                {{ dwell_typed_timestamp(column, available) or 'cast(null as timestamp)' }} as {{ column }}_timestamp{% if not loop.last %},{% endif %}
                {%- endfor %}
            from {{ reader }}
        {%- endset -%}
        {%- do branches.append((branch, parquet_files)) -%}
    {%- endif -%}

    {%- if json_files -%}
        {%- do branches.append((duckdb__dwell_read_json_events(json_files), json_files)) -%}
    {%- endif -%}

    {%- if unreadable_files -%}
        {#- One row per unreadable file, so that it is read, quarantined and reported like a bad row. -#}
        {%- set branch -%}
            select
                {%- for column in columns %}
                cast(null as varchar) as {{ column }},
                {%- endfor %}
                path as source_file,
                source_format,
                cast(null as bigint) as source_line_number,
                cast(null as varchar) as raw_line,
                file_error,
                cast(null as varchar) as non_text_columns,
                {%- for column in dwell_event_timestamp_columns() %}
                cast(null as timestamp) as {{ column }}_timestamp{% if not loop.last %},{% endif %}
                {%- endfor %}
            from (
                values
                {%- for file in unreadable_files %}
                ({{ dbt.string_literal(file.source_file) }}, {{ dbt.string_literal(file.source_format) }}, {{ dbt.string_literal(file.file_error) }}){% if not loop.last %},{% endif %}
                {%- endfor %}
            ) as unreadable (path, source_format, file_error)
        {%- endset -%}
        {%- do branches.append((branch, unreadable_files)) -%}
    {%- endif -%}

    {%- if branches -%}
        {%- for branch, files in branches %}
        {% if not loop.first %}union all{% endif %}
        select
            rows_read.*,
            cast(files.size as bigint) as source_file_size,
            make_timestamp(cast(files.modified_us as bigint)) as source_file_modified_at,
            '{{ invocation_id }}' as load_id,
            cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as loaded_at
        from ({{ branch }}) as rows_read
        inner join (
            values
            {%- for file in files %}
            ({{ dbt.string_literal(file.source_file) }}, {{ file.source_file_size }}, {{ file.modified_us }}){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as files (path, size, modified_us)
            on rows_read.source_file = files.path
        {%- endfor %}
    {%- else -%}
        select
            {%- for column in columns %}
            cast(null as varchar) as {{ column }},
            {%- endfor %}
            cast(null as varchar) as source_file,
            cast(null as varchar) as source_format,
            cast(null as bigint) as source_line_number,
            cast(null as varchar) as raw_line,
            cast(null as varchar) as file_error,
            cast(null as varchar) as non_text_columns,
            {%- for column in dwell_event_timestamp_columns() %}
            cast(null as timestamp) as {{ column }}_timestamp,
            {%- endfor %}
            cast(null as bigint) as source_file_size,
            cast(null as timestamp) as source_file_modified_at,
            cast(null as varchar) as load_id,
            cast(null as timestamp) as loaded_at
        where false
    {%- endif -%}
{%- endmacro %}

{#- The rows of the event files now in the landing directory, from the landing tables, skipping the files
    already_loaded holds with the same size and modification time: the rows the DuckDB reader gives, with typed
    timestamps as text. -#}
{% macro default__dwell_read_landed_events(already_loaded) -%}
    {%- set landing = source('landing', 'events') -%}
    select
        {%- for column in dwell_event_columns() %}
        landed.{{ column }},
        {%- endfor %}
        landed.source_file,
        landed.source_format,
        landed.source_line_number,
        landed.raw_line,
        landed.file_error,
        landed.non_text_columns,
        {%- for column in dwell_event_timestamp_columns() %}
        cast(null as {{ dbt.type_timestamp() }}) as {{ column }}_timestamp,
        {%- endfor %}
        landed.source_file_size,
        landed.source_file_modified_at,
        '{{ invocation_id }}' as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as loaded_at
    from {{ landing }} as landed
    inner join {{ landing.incorporate(path={'identifier': 'event_files'}) }} as present
        on present.source_file = landed.source_file
        and present.source_file_size = landed.source_file_size
        and present.source_file_modified_at = landed.source_file_modified_at
    {%- if already_loaded is not none %}
    where {{ dwell_file_not_loaded(already_loaded, 'landed.source_file', 'landed.source_file_size',
        'landed.source_file_modified_at') }}
    {%- endif %}
{%- endmacro %}
