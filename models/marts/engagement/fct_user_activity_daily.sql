{{ config(
    materialized='incremental',
    partition_by=dwell_spark_partition_by('activity_date'),
    pre_hook="{{ dwell_delete_rebuilt_user_rows('activity_date', by_date=true) }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Incremental: every session and category session a run changes, renumbers or concludes starts at or after its
    user's rebuild point (int_session_user_scope), so the pre-hook deletes each scoped user's days from the day of
    that point and this model sums them again. A full build sums every day. #}

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
        category_sessions.user_id,
        category_sessions.category,
        category_sessions.activity_date,
        category_sessions.duration_seconds,
        category_sessions.event_count
    from category_sessions
    where {{ dwell_in_list('category_sessions.category', categories) }}

    union all

    select
        session_id,
        user_id,
        'any' as category,
        session_date as activity_date,
        duration_seconds,
        event_count
    from sessions

),

-- By the day a row counts on: a session that starts before its user's rebuild point keeps its own row, but one of
-- its category sessions may count on a rebuilt day.
rebuilt_activity as (

    {{ dwell_rebuilt_user_rows('activity_sessions', 'activity_date', by_date=true) | indent(4) }}

),

-- The organization is the dwell session's, as fct_sessions holds it now.
final as (

    select
        sessions.user_id,
        sessions.organization_id,
        rebuilt_activity.activity_date,
        rebuilt_activity.category,
        {{ dwell_sum_seconds('rebuilt_activity.duration_seconds') }} as active_seconds,
        cast(sum(rebuilt_activity.event_count) as bigint) as event_count,
        count(*) as session_count
    from rebuilt_activity
    inner join sessions
        on rebuilt_activity.session_id = sessions.session_id
    group by sessions.user_id, sessions.organization_id, rebuilt_activity.activity_date, rebuilt_activity.category

)

select * from final
