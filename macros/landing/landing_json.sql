{#- Reading the JSON event files (README "Event files"). DuckDB's reader is fast, but a line it cannot parse comes
    out as a row of nulls, without its text or line number; and it rejects a byte-order mark at the start of a file
    it splits among its threads, which it does to a file read alone. The JSON-lines files where it gives such a row
    are read again line by line (dwell_event_file_lines, orchestration/engines/duckdb_functions.py), and only those: every
    other file stays on the fast path. -#}

{#- Contract column -> the type the JSON readers read it as. Text columns are read as JSON values, so that a number,
    boolean, object or array in one is kept as its JSON text and recorded as not text (quarantined later, not fatal);
    timestamps are read as text. -#}
{% macro dwell_json_column_types() -%}
    {%- set types = {} -%}
    {%- for column in dwell_event_columns() -%}
        {%- do types.update({column: 'JSON' if column == 'properties' or column in dwell_event_text_columns() else 'VARCHAR'}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{#- DuckDB's reader of JSON files of one layout (`lines` or `array`) and compression: the contract columns and
    `filename`. -#}
{% macro duckdb__dwell_json_reader(paths, layout, compression) -%}
    read_json(
        {{ dwell_file_list(paths) }},
        format = '{{ "array" if layout == "array" else "newline_delimited" }}',
        compression = '{{ compression }}',
        ignore_errors = true,
        filename = true,
        columns = {
            {%- for column, type in dwell_json_column_types().items() %}
            {{ dbt.string_literal(column) }}: '{{ type }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        }
    )
{%- endmacro %}

{#- The JSON-lines files among the groups (layout, compression, paths) in which DuckDB's reader finds a row of
    nulls: a line it cannot parse, or that holds no contract column at all. -#}
{% macro duckdb__dwell_json_files_to_reread(groups) -%}
    {%- set reads = [] -%}
    {%- for group in groups if group.layout == 'lines' -%}
        {%- set read -%}
            select filename
            from {{ duckdb__dwell_json_reader(group.paths, group.layout, group.compression) }}
            where {% for column in dwell_event_columns() %}{{ column }} is null{% if not loop.last %} and {% endif %}{% endfor %}
        {%- endset -%}
        {%- do reads.append(read) -%}
    {%- endfor -%}
    {%- if not reads -%}{{ return([]) }}{%- endif -%}
    {{ return(run_query('select distinct filename from (' ~ reads | join(' union all ') ~ ') as null_rows order by 1')
              .columns[0].values() | list) }}
{%- endmacro %}

{#- The lines of JSON-lines files, read line by line: the contract columns of each line that is a JSON object, and
    the 1-based line number of every line, with the text of those that are not (not JSON, another JSON value, or
    bytes that are not UTF-8) in raw_line. The columns are read as DuckDB's reader reads them. -#}
{% macro duckdb__dwell_json_lines(paths) -%}
    with lines as (

        select
            reread.filename,
            unnest(dwell_event_file_lines(reread.filename)) as line
        from (
            values
            {%- for path in paths %}
            ({{ dbt.string_literal(path) }}){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as reread (filename)

    ),

    checked as (

        select
            filename,
            line.line_number,
            line.text,
            -- json_type fails on a text that is not JSON: it is asked only of valid JSON.
            case
                when line.is_utf8 and json_valid(line.text) then json_type(line.text) = 'OBJECT'
                else false
            end as is_object
        from lines

    ),

    parsed as (

        select
            *,
            case
                when is_object then json_transform(text, {{ dbt.string_literal(dwell_json_column_types() | tojson) }})
            end as fields
        from checked

    )

    select
        filename,
        {%- for column in dwell_event_columns() %}
        fields.{{ column }},
        {%- endfor %}
        line_number as source_line_number,
        case when not is_object then text end as raw_line
    from parsed
{%- endmacro %}

{#- The rows of the JSON event files, every contract column as text: duckdb__dwell_read_landed_events' branch for
    JSON. Each group of files of one layout and compression is one read of DuckDB's reader, less the files read
    line by line. -#}
{% macro duckdb__dwell_read_json_events(json_files) -%}
    {%- set columns = dwell_event_columns() -%}
    {%- set text_columns = dwell_event_text_columns() -%}
    {%- set groups = {} -%}
    {%- for file in json_files -%}
        {%- set key = file.json_layout ~ ' ' ~ file.compression -%}
        {%- do groups.setdefault(key, {'layout': file.json_layout, 'compression': file.compression, 'paths': []})
               .paths.append(file.source_file) -%}
    {%- endfor -%}
    {%- set reread = duckdb__dwell_json_files_to_reread(groups.values()) -%}
    {%- set sources = [] -%}
    {%- for group in groups.values() -%}
        {%- set fast_paths = group.paths | reject('in', reread) | list -%}
        {%- if fast_paths -%}
            {%- set source -%}
                select
                    filename,
                    {%- for column in columns %}
                    {{ column }},
                    {%- endfor %}
                    cast(null as bigint) as source_line_number,
                    cast(null as varchar) as raw_line
                from {{ duckdb__dwell_json_reader(fast_paths, group.layout, group.compression) }}
            {%- endset -%}
            {%- do sources.append(source) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if reread -%}
        {%- do sources.append(duckdb__dwell_json_lines(reread)) -%}
    {%- endif -%}
    {%- set is_not_text = {} -%}
    {%- for column in text_columns -%}
        {%- do is_not_text.update({column: 'json_type(' ~ column ~ ") not in ('VARCHAR', 'NULL')"}) -%}
    {%- endfor -%}
    select
        {%- for column in columns %}
        {% if column in text_columns %}{{ column }} ->> '$'{% else %}cast({{ column }} as varchar){% endif %} as {{ column }},
        {%- endfor %}
        filename as source_file,
        'json' as source_format,
        source_line_number,
        raw_line,
        cast(null as varchar) as file_error,
        {{ dwell_non_text_column_list(is_not_text) }} as non_text_columns,
        {%- for column in dwell_event_timestamp_columns() %}
        cast(null as timestamp) as {{ column }}_timestamp{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (
        {%- for source in sources %}
        {% if not loop.first %}union all{% endif %}
        ({{ source }})
        {%- endfor %}
    ) as json_rows
{%- endmacro %}
