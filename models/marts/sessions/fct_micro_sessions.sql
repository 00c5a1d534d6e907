{{ config(
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_changed_sessions() }}",
) }}

-- depends_on: {{ ref('int_sessions_changed') }}

{# Focus periods of workspace sessions (README "Workspace sessions and focus time"). Workspace sessions nest inside
   dwell sessions, so a dwell session's own events decide every row: an incremental run deletes the dwell sessions
   of int_sessions_changed (pre-hook) and appends them again from their events. #}

{%- set timeout_us = dwell_microseconds(dwell_seconds_setting('workspace_session_timeout_seconds',
                                                             var('workspace_session_timeout_seconds'))) %}
{%- set workspace_partition = ['user_id', 'parent_session_id', 'workspace_id'] %}

-- Both CTEs are inlined: workspace_events is read twice, and DuckDB would otherwise write out every event first,
-- which costs more than reading them twice.
with session_events as {{ dwell_inline_cte() }} (

    {{ dwell_changed_session_events() }}

),

-- An event without a workspace belongs to no workspace session.
workspace_events as {{ dwell_inline_cte() }} (

    select
        event_id,
        user_id,
        session_id as parent_session_id,
        workspace_id,
        organization_id,
        event_name,
        occurred_at,
        session_date
    from session_events
    where workspace_id is not null

),

-- A focus period is a session by the workspace timeout with the blur as its end event: the next event after a blur
-- starts the next period. Every event of a dwell session has its session_date.
periods as (

    {{ dwell_session_bounds(
        'workspace_events',
        {'partition_by': workspace_partition, 'timeout_us': timeout_us, 'restart_events': [],
         'end_events': ['workspace_blur']},
        first_event_columns=['organization_id', 'session_date'],
    ) }}

),

-- Only the gap, not a blur, starts a workspace session: after a blur the next period may still be in the same one.
workspace_session_starts as (

    select
        user_id,
        parent_session_id,
        workspace_id,
        session_first_event_id as first_event_id,
        session_last_event_id as last_event_id,
        session_start_at as started_at,
        session_end_at as ended_at,
        session_start_us as started_us,
        session_end_us as ended_us,
        last_event_name,
        event_count,
        organization_id,
        session_date,
        case
            when preceding_event_us is null or session_start_us - preceding_event_us > {{ timeout_us }}
                then session_first_event_id
        end as starts_workspace_session_with
    from periods

),

in_workspace_sessions as (

    select
        workspace_session_starts.*,
        {{ dwell_last_non_null('starts_workspace_session_with') }} over workspace_running
            as workspace_first_event_id,
        max(case when starts_workspace_session_with is not null then started_us end) over workspace_running
            as workspace_started_us
    from workspace_session_starts
    window workspace_running as (
        partition by {{ workspace_partition | join(', ') }}
        order by started_at, first_event_id
        rows between unbounded preceding and current row
    )

),

-- A period whose first event sent no organization takes the first one sent later in the period (rare: a join of the
-- few such periods to their events).
later_organizations as (

    select
        periods_without.user_id,
        periods_without.parent_session_id,
        periods_without.workspace_id,
        periods_without.first_event_id,
        workspace_events.organization_id,
        row_number() over (
            partition by periods_without.user_id, periods_without.parent_session_id, periods_without.workspace_id,
                periods_without.first_event_id
            order by workspace_events.occurred_at, workspace_events.event_id
        ) as organization_rank
    from workspace_session_starts as periods_without
    inner join workspace_events
        on periods_without.user_id = workspace_events.user_id
        and periods_without.parent_session_id = workspace_events.parent_session_id
        and periods_without.workspace_id = workspace_events.workspace_id
        and (workspace_events.occurred_at > periods_without.started_at
            or (workspace_events.occurred_at = periods_without.started_at
                and workspace_events.event_id > periods_without.first_event_id))
        and (workspace_events.occurred_at < periods_without.ended_at
            or (workspace_events.occurred_at = periods_without.ended_at
                and workspace_events.event_id <= periods_without.last_event_id))
    where periods_without.organization_id is null
        and workspace_events.organization_id is not null

),

workspace_periods as (

    select
        {{ dwell_session_id(workspace_partition, 'in_workspace_sessions.workspace_first_event_id') }}
            as workspace_session_id,
        in_workspace_sessions.*
    from in_workspace_sessions

),

final as (

    select
        {{ dbt.hash(dwell_concat_keys(['workspace_session_id', 'workspace_periods.first_event_id'])) }}
            as micro_session_id,
        workspace_periods.workspace_session_id,
        workspace_periods.parent_session_id as session_id,
        workspace_periods.user_id,
        coalesce(workspace_periods.organization_id, later_organizations.organization_id) as organization_id,
        workspace_periods.workspace_id,
        cast(row_number() over workspace_session as {{ dbt.type_bigint() }}) as micro_session_number,
        workspace_periods.started_at,
        workspace_periods.ended_at,
        (workspace_periods.ended_us - workspace_periods.started_us) / {{ dwell_microseconds_per_second() }}
            as focused_seconds,
        {#- The window in full: Spark cannot extend a named window with a frame. #}
        sum(workspace_periods.ended_us - workspace_periods.started_us) over (
            partition by workspace_periods.workspace_session_id
            order by workspace_periods.started_at, workspace_periods.first_event_id
            rows between unbounded preceding and current row
        ) / {{ dwell_microseconds_per_second() }} as cumulative_focused_seconds,
        (workspace_periods.ended_us - workspace_periods.workspace_started_us) / {{ dwell_microseconds_per_second() }}
            as session_elapsed_seconds,
        -- A blur always ends the period it is in.
        case when workspace_periods.last_event_name = 'workspace_blur' then 'blur' else 'session_end' end as ended_by,
        workspace_periods.event_count,
        workspace_periods.session_date
    from workspace_periods
    left join later_organizations
        on workspace_periods.organization_id is null
        and later_organizations.organization_rank = 1
        and workspace_periods.user_id = later_organizations.user_id
        and workspace_periods.parent_session_id = later_organizations.parent_session_id
        and workspace_periods.workspace_id = later_organizations.workspace_id
        and workspace_periods.first_event_id = later_organizations.first_event_id
    window workspace_session as (
        partition by workspace_periods.workspace_session_id
        order by workspace_periods.started_at, workspace_periods.first_event_id
    )

)

select * from final
