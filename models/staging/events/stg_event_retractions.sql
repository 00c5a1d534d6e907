{{ config(materialized='incremental', full_refresh=false) }}

{# One row per retraction: a version of a file under <landing>/retracted/ found for the first time, the events/ path
   it takes back, and the load that recorded it. Kept across full refreshes: a retraction is history, and a full
   refresh only reads events/. #}

with found as (

    {{ dwell_read_retracted_files() | indent(4) }}

),

new_retractions as (

    select found.*
    from found
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as recorded
        where recorded.retracted_file = found.retracted_file
            and recorded.retracted_file_size = found.retracted_file_size
            and recorded.retracted_file_modified_at = found.retracted_file_modified_at
    )
    {%- endif %}

),

final as (

    select
        retracted_file,
        retracted_file_size,
        retracted_file_modified_at,
        {{ dwell_retracted_source_file('retracted_file') }} as source_file,
        '{{ invocation_id }}' as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as retracted_at
    from new_retractions

)

select * from final
