with counted_events as (

    select *
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

sessionized as (

    {{ dwell_sessionize(
        'counted_events',
        partition_by=var('session_partition_by'),
        timeout_seconds=var('session_timeout_seconds'),
        restart_events=var('session_restart_events'),
        end_events=var('session_end_events'),
        max_length_seconds=var('session_max_length_seconds'),
    ) }}

),

final as (

    select
        event_id,
        session_id,
        user_id,
        organization_id,
        workspace_id,
        project_id,
        event_name,
        category,
        platform,
        page,
        occurred_at,
        event_number_in_session,
        seconds_since_previous_event,
        seconds_since_session_start,
        session_start_at,
        session_start_reason,
        is_last_event_in_session
    from sessionized

)

select * from final
