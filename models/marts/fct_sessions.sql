{{ config(
    materialized='incremental',
    tags=['daily'],
    incremental_strategy='delete+insert',
    unique_key='user_id',
    on_schema_change='fail',
) }}

{#- Rebuilt per user, like fct_session_events: the users with events in the partition window, plus the users
    whose open session the newest data has since concluded. -#}
{%- set window = dwell_partition_window() if is_incremental() else none %}
{%- set timeout_us = dwell_microseconds(dwell_seconds_setting('session_timeout_seconds', var('session_timeout_seconds'))) %}

with all_session_events as (

    select * from {{ ref('fct_session_events') }}

),

staged_events as (

    select * from {{ ref('stg_events') }}

),

users as (

    select * from {{ ref('stg_users') }}

),

{% if window is not none -%}
rebuilt_users as (

    select user_id from all_session_events where {{ dwell_in_window('occurred_at', window) }}
    union
    select user_id from {{ this }} where session_start_at < {{ window[1] }} and session_end_at >= {{ window[0] }}
    union
    select user_id
    from {{ this }}
    where end_reason = 'open'
        and {{ dwell_epoch_microseconds('(select max(occurred_at) from staged_events)') }}
            - {{ dwell_epoch_microseconds('session_end_at') }} > {{ timeout_us }}

),

session_events as (

    select *
    from all_session_events
    where user_id in (select user_id from rebuilt_users)

),
{%- else -%}
session_events as (

    select * from all_session_events

),
{%- endif %}

summarized as (

    {{ dwell_session_summary(
        'session_events',
        partition_by=var('session_partition_by'),
        timeout_seconds=var('session_timeout_seconds'),
        end_events=var('session_end_events'),
        newest_event_at='(select max(occurred_at) from staged_events)',
        first_non_null_columns=['workspace_id', 'organization_id'],
    ) }}

),

final as (

    select
        summarized.session_id,
        summarized.user_id,
        coalesce(summarized.organization_id, users.organization_id) as organization_id,
        summarized.workspace_id,
        summarized.session_start_at,
        summarized.session_end_at,
        summarized.duration_seconds,
        summarized.event_count,
        row_number() over (
            partition by summarized.user_id
            order by summarized.session_start_at, summarized.first_event_id
        ) as session_number,
        summarized.start_reason,
        summarized.end_reason,
        summarized.is_concluded,
        cast(summarized.session_start_at as date) as session_date,
        summarized.first_event_id
    from summarized
    left join users
        on summarized.user_id = users.user_id

)

select * from final
