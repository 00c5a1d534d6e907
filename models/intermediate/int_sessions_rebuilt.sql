{# The fct_sessions rows this run writes: for each user in int_session_user_scope, the sessions from the user's
   rebuild point: the rebuilt partitions' sessions, and the user's other sessions carried over (renumbered, open
   ones concluded by the newest data). A full build: every session. It reads the mart before the mart's pre-hook
   removes the rows these replace. #}

-- depends_on: {{ ref('int_session_user_scope') }}

{% set full_build = dwell_rebuild_mode() == "full" %}
{%- set rules = dwell_session_rules() %}
{%- set timeout_us = rules.timeout_us %}

-- Read by several CTEs: inlined, since DuckDB would otherwise write out every event first, which costs more than
-- reading them again.
with rebuilt_events as {{ dwell_inline_cte() }} (

    {{ dwell_rebuilt_session_events() | indent(4) }}

),

staged_events as (

    select * from {{ ref('stg_events') }}

),

users as (

    select * from {{ ref('stg_users') }}

),

tiers as (

    select * from {{ ref('engagement_tiers') }}

),

session_activity as (

    select
        session_id,
        {%- for category in ['ide', 'build', 'debug', 'deploy', 'error'] %}
        count(case when category = '{{ category }}' then 1 end) as {{ category }}_event_count,
        {%- endfor %}
        count(case when category = 'page' then 1 end) as page_view_count,
        count(distinct page) as distinct_page_count
    from rebuilt_events
    group by session_id

),

summarized as (

    {{ dwell_session_summary(
        'rebuilt_events',
        rules,
        newest_event_at='(select max(occurred_at) from staged_events)',
        first_non_null_columns=['workspace_id', 'organization_id'],
        segment_by=['rebuild_segment'],
        next_start_reason_column='next_session_start_reason',
    ) }}

),

rebuilt_sessions as (

    select
        summarized.session_id,
        summarized.user_id,
        coalesce(summarized.organization_id, users.organization_id) as organization_id,
        summarized.workspace_id,
        summarized.session_start_at,
        summarized.session_end_at,
        summarized.duration_seconds,
        summarized.event_count,
        summarized.start_reason,
        summarized.end_reason,
        summarized.is_concluded,
        summarized.first_event_id,
        session_activity.ide_event_count,
        session_activity.build_event_count,
        session_activity.debug_event_count,
        session_activity.deploy_event_count,
        session_activity.error_event_count,
        session_activity.page_view_count,
        session_activity.distinct_page_count,
        tiers.tier as engagement_tier,
        tiers.is_bounce
    from summarized
    inner join session_activity
        on summarized.session_id = session_activity.session_id
    left join users
        on summarized.user_id = users.user_id
    left join tiers
        on summarized.duration_seconds >= tiers.lower_bound_seconds
        and (tiers.upper_bound_seconds is null or summarized.duration_seconds < tiers.upper_bound_seconds)

),

{% if full_build -%}
sessions as (

    select rebuilt_sessions.*, 0 as sessions_before
    from rebuilt_sessions

),
{%- else -%}
user_scope as (

    select * from {{ ref('int_session_user_scope') }}

),

previous as (

    select * from {{ dwell_previous_state('fct_sessions') }}

),

carried_sessions as (

    select
        previous.session_id,
        previous.user_id,
        previous.organization_id,
        previous.workspace_id,
        previous.session_start_at,
        previous.session_end_at,
        previous.duration_seconds,
        previous.event_count,
        previous.start_reason,
        case
            when previous.end_reason = 'open'
                and {{ dwell_epoch_microseconds('(select max(occurred_at) from staged_events)') }}
                    - {{ dwell_epoch_microseconds('previous.session_end_at') }} > {{ timeout_us }}
                then 'inactivity'
            else previous.end_reason
        end as end_reason,
        previous.is_concluded
            or {{ dwell_epoch_microseconds('(select max(occurred_at) from staged_events)') }}
                - {{ dwell_epoch_microseconds('previous.session_end_at') }} > {{ timeout_us }} as is_concluded,
        previous.first_event_id,
        previous.ide_event_count,
        previous.build_event_count,
        previous.debug_event_count,
        previous.deploy_event_count,
        previous.error_event_count,
        previous.page_view_count,
        previous.distinct_page_count,
        previous.engagement_tier,
        previous.is_bounce
    from previous
    inner join user_scope
        on previous.user_id = user_scope.user_id
    where {{ dwell_at_or_after('previous.session_start_at', 'previous.first_event_id', 'user_scope.rebuild_from_at', 'user_scope.rebuild_from_event_id') }}
        and previous.session_id not in (
            select previous_session_id from rebuilt_events where previous_session_id is not null
        )

),

sessions_before as (

    select previous.user_id, count(*) as sessions_before
    from previous
    inner join user_scope
        on previous.user_id = user_scope.user_id
    where not {{ dwell_at_or_after('previous.session_start_at', 'previous.first_event_id', 'user_scope.rebuild_from_at', 'user_scope.rebuild_from_event_id') }}
    group by previous.user_id

),

sessions as (

    select replaced.*, coalesce(sessions_before.sessions_before, 0) as sessions_before
    from (
        select * from rebuilt_sessions
        union all
        select * from carried_sessions
    ) as replaced
    left join sessions_before
        on replaced.user_id = sessions_before.user_id

),
{%- endif %}

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
        cast(sessions_before + row_number() over (
            partition by user_id
            order by session_start_at, first_event_id
        ) as {{ dbt.type_bigint() }}) as session_number,
        start_reason,
        end_reason,
        is_concluded,
        cast(session_start_at as date) as session_date,
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
    from sessions

)

select * from final
