{#- The files under <landing>/events/ and which of them the event reader takes (README "Event files"). Which names
    it takes is defined once, in orchestration/landing.py, and asked through the SQL function dwell_landed_file
    (orchestration/engines/duckdb_functions.py). -#}

{#- A query of every file under <landing>/events/ at any depth but the files in flight (hidden, *.tmp, *.partial):
    source_file, source_file_size, source_file_modified_at, source_format (parquet or json; null for a file the
    reader does not take), compression (gzip or uncompressed) and not_taken_reason. -#}
{% macro duckdb__dwell_landing_files() -%}
    {%- set files = dwell_find_files([dwell_landing_dir() ~ '/events/**']) -%}
    {%- if files -%}
        select
            source_file,
            source_file_size,
            source_file_modified_at,
            kind.format as source_format,
            kind.compression,
            kind.not_taken_reason
        from (
            select
                filename as source_file,
                size as source_file_size,
                make_timestamp(epoch_us(last_modified)) as source_file_modified_at,
                dwell_landed_file(filename) as kind
            from read_blob({{ dwell_file_list(files) }})
        ) as found
        where kind is not null
    {%- else -%}
        select
            cast(null as varchar) as source_file,
            cast(null as bigint) as source_file_size,
            cast(null as timestamp) as source_file_modified_at,
            cast(null as varchar) as source_format,
            cast(null as varchar) as compression,
            cast(null as varchar) as not_taken_reason
        where false
    {%- endif -%}
{%- endmacro %}

{#- One row per version (path, size, modification time) of a file under <landing>/events/ that the event reader does
    not take, with the reason, not yet in already_recorded (the relation this macro filled before), and the load. -#}
{% macro dwell_read_files_not_taken(already_recorded=none) -%}
    {{ return(adapter.dispatch('dwell_read_files_not_taken', 'dwell')(already_recorded)) }}
{%- endmacro %}

{% macro duckdb__dwell_read_files_not_taken(already_recorded) -%}
    {{ dwell_files_not_taken_from('(' ~ duckdb__dwell_landing_files() ~ ')', already_recorded) }}
{%- endmacro %}

{#- From the landing copy's list of the files now in the directory (macros/landing_copy.sql). -#}
{% macro default__dwell_read_files_not_taken(already_recorded) -%}
    {{ dwell_files_not_taken_from(source('landing', 'events').incorporate(path={'identifier': 'event_files'}),
                                  already_recorded) }}
{%- endmacro %}

{% macro dwell_files_not_taken_from(files, already_recorded) -%}
    select
        found.source_file,
        found.source_file_size,
        found.source_file_modified_at,
        found.not_taken_reason,
        '{{ invocation_id }}' as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ files }} as found
    where found.not_taken_reason is not null
    {%- if already_recorded is not none %}
        and {{ dwell_file_not_loaded(already_recorded, 'found.source_file', 'found.source_file_size',
                                     'found.source_file_modified_at') }}
    {%- endif %}
{%- endmacro %}
