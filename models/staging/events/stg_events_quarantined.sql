with landed as (

    select * from {{ ref('stg_landed_events') }}

),

final as (

    select
        quarantine_reason,
        source_file,
        source_format,
        source_line_number,
        raw_line,
        event_id,
        user_id,
        event_name,
        occurred_at_raw,
        received_at_raw,
        organization_id,
        workspace_id,
        project_id,
        platform,
        page,
        client_session_id,
        properties
    from landed
    where load_status = 'quarantined'

)

select * from final
