{# One row per file version (path, size, modification time) each load found under <landing>/events/: loaded, an
   event file it could not read (unreadable), or a file the event reader does not take (not_taken), with the reason
   and the rows read. Appended by every run and kept across full refreshes, as
   rpt_load_audit is. Rows read add up to the load's
   rpt_load_audit.rows_read. #}

with read_rows as (

    select * from {{ ref('base_landing_events') }}
    where load_id = '{{ invocation_id }}'

),

not_taken as (

    select * from {{ ref('base_landing_files_not_taken') }}
    where load_id = '{{ invocation_id }}'

),

files_read as (

    select
        source_file,
        source_file_size,
        source_file_modified_at,
        source_format,
        -- An unreadable file is one row, with its error.
        max(file_error) as file_error,
        count(*) as rows_read
    from read_rows
    group by source_file, source_file_size, source_file_modified_at, source_format

),

files as (

    select
        source_file,
        source_file_size,
        source_file_modified_at,
        source_format,
        case when file_error is null then 'loaded' else 'unreadable' end as status,
        file_error as reason,
        rows_read
    from files_read

    union all

    select
        source_file,
        source_file_size,
        source_file_modified_at,
        cast(null as {{ dbt.type_string() }}) as source_format,
        'not_taken' as status,
        not_taken_reason as reason,
        cast(0 as {{ dbt.type_bigint() }}) as rows_read
    from not_taken

),

final as (

    select
        '{{ invocation_id }}' as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as loaded_at,
        source_file,
        source_file_size,
        source_file_modified_at,
        source_format,
        status,
        reason,
        rows_read
    from files

)

select * from final
