with session_events as (

    select * from {{ ref('fct_session_events') }}

),

staged_events as (

    select * from {{ ref('stg_events') }}

),

users as (

    select * from {{ ref('stg_users') }}

),

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
