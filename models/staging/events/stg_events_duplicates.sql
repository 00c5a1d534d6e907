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
        source_file,
        source_format
    from landed
    where load_status = 'duplicate'

)

select * from final
