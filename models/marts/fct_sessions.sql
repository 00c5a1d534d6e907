{{ config(
    materialized='incremental',
    contract={'enforced': true},
    incremental_strategy='append',
    on_schema_change='fail',
    tags=['daily'],
    pre_hook="{{ dwell_delete_rebuilt_sessions() }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Incremental: the sessions of int_sessions_rebuilt replace each scoped user's sessions from the user's rebuild
   point (README "Incremental runs"); a full build writes every session. #}

with rebuilt as (

    select * from {{ ref('int_sessions_rebuilt') }}

),

final as (

    select
        session_id,
        user_id,
        organization_id,
        workspace_id,
        session_start_at,
        session_end_at,
        duration_seconds,
        event_count,
        session_number,
        start_reason,
        end_reason,
        is_concluded,
        session_date,
        first_event_id,
        ide_event_count,
        build_event_count,
        debug_event_count,
        deploy_event_count,
        error_event_count,
        page_view_count,
        distinct_page_count,
        engagement_tier,
        is_bounce
    from rebuilt

)

select * from final
