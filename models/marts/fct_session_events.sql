{{ config(
    materialized='incremental',
    contract={'enforced': true},
    incremental_strategy='append',
    partition_by=dwell_spark_partition_by('session_date'),
    on_schema_change='fail',
    tags=['daily'],
    pre_hook="{{ dwell_delete_rebuilt_session_events() }}",
) }}

-- depends_on: {{ ref('stg_landed_events') }}
-- int_sessions_changed reads this mart as the previous run left it, so it runs first.
-- depends_on: {{ ref('int_sessions_changed') }}

{# Incremental: the changed rows of the rebuilt segments replace the ones there before, and versions replaced by a
    new copy go (README "Incremental runs"); a full build writes every event. #}

with rebuilt as (

    select * from {{ ref('int_session_events_rebuilt') }}
    where is_changed

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
        is_last_event_in_session,
        cast(session_start_at as date) as session_date
    from rebuilt

)

select * from final
