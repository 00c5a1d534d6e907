{{ config(
    materialized='incremental',
    tags=['daily'],
    incremental_strategy='delete+insert',
    unique_key='user_id',
    on_schema_change='fail',
) }}

{#- A partitioned run rebuilds every user with events in its window, from that user's whole history, so each
    run gives exactly the rows a full build gives (sessions need all earlier events of their user). -#}
{%- set window = dwell_partition_window() if is_incremental() else none %}

with categorized_events as (

    select *
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

{% if window is not none -%}
rebuilt_users as (

    select user_id from categorized_events where {{ dwell_in_window('occurred_at', window) }}
    union
    select user_id from {{ this }} where {{ dwell_in_window('occurred_at', window) }}

),

counted_events as (

    select *
    from categorized_events
    where user_id in (select user_id from rebuilt_users)

),
{%- else -%}
counted_events as (

    select * from categorized_events

),
{%- endif %}

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
