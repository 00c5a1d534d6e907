with landed as (

    select * from {{ ref('stg_landed_events') }}

),

final as (

    select
        event_id,
        occurred_at,
        received_at,
        user_id,
        event_name,
        organization_id,
        workspace_id,
        project_id,
        platform,
        page,
        client_session_id,
        properties,
        source_file,
        load_id,
        decided_in_load_id
    from landed
    where load_status = 'staged'

)

select * from final
