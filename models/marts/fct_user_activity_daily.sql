{{ config(tags=['daily'], contract={'enforced': true}) }}

{%- set categories = dwell_activity_categories() %}

with category_sessions as (

    select * from {{ ref('int_category_sessions') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

-- `any` is the dwell session itself: every counted event.
activity_sessions as (

    select
        category_sessions.session_id,
        category_sessions.category,
        category_sessions.activity_date,
        category_sessions.duration_seconds,
        category_sessions.event_count
    from category_sessions
    where {{ dwell_in_list('category_sessions.category', categories) }}

    union all

    select
        session_id,
        'any' as category,
        session_date as activity_date,
        duration_seconds,
        event_count
    from sessions

),

-- The organization is the dwell session's, read on every build: it can change without the session's events changing.
final as (

    select
        sessions.user_id,
        sessions.organization_id,
        activity_sessions.activity_date,
        activity_sessions.category,
        {{ dwell_sum_seconds('activity_sessions.duration_seconds') }} as active_seconds,
        cast(sum(activity_sessions.event_count) as bigint) as event_count,
        count(*) as session_count
    from activity_sessions
    inner join sessions
        on activity_sessions.session_id = sessions.session_id
    group by sessions.user_id, sessions.organization_id, activity_sessions.activity_date, activity_sessions.category

)

select * from final
