{{ config(materialized='view') }}

with events as (

    select * from {{ ref('stg_events') }}

),

catalog as (

    select * from {{ ref('event_catalog') }}

),

final as (

    select
        events.event_id,
        events.occurred_at,
        events.received_at,
        events.user_id,
        events.event_name,
        coalesce(catalog.category, 'other') as category,
        -- Names missing from the catalog count toward sessions.
        coalesce(catalog.counts_toward_session, true) as counts_toward_session,
        events.organization_id,
        events.workspace_id,
        events.project_id,
        events.platform,
        events.page,
        events.client_session_id,
        events.properties,
        events.load_id,
        events.decided_in_load_id
    from events
    left join catalog
        on events.event_name = catalog.event_name

)

select * from final
