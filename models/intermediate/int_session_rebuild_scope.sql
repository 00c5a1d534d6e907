{# The segments of session partitions this run rebuilds (README "Incremental runs"): each runs from
    (rebuild_from_at, rebuild_from_event_id), an uncut session start before a changed event (null: the partition's
    beginning), up to but excluding (rebuild_until_at, rebuild_until_event_id), an uncut session start after the
    changes that keeps its place (null: the partition's end). (context_at, context_event_id) is the event just before the
    segment, which gives the first rebuilt event its start reason; next_session_start_reason is the start reason
    of the session at the segment's end, which gives the last rebuilt session its end reason.

    Changed events: those of this run's load (new copies and the versions they replace), and on a partitioned run
    every event in the window [DWELL_WINDOW_START, DWELL_WINDOW_END). A full build has one segment per partition:
    all of it. #}

{%- set partition_by = dwell_session_rules().partition_by %}
{%- set partition = partition_by | join(', ') %}
{%- set window = dwell_partition_window() %}
{%- set previous_events = dwell_previous_state('fct_session_events') %}

-- depends_on: {{ ref('int_event_ids_changed') }}

with events as (

    select *
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

{% if dwell_rebuild_mode() == 'full' -%}
final as (

    select distinct
        {{ partition }},
        1 as rebuild_segment,
        cast(null as {{ dbt.type_timestamp() }}) as rebuild_from_at,
        cast(null as {{ dbt.type_string() }}) as rebuild_from_event_id,
        cast(null as {{ dbt.type_timestamp() }}) as context_at,
        cast(null as {{ dbt.type_string() }}) as context_event_id,
        cast(null as {{ dbt.type_timestamp() }}) as rebuild_until_at,
        cast(null as {{ dbt.type_string() }}) as rebuild_until_event_id,
        cast(null as {{ dbt.type_string() }}) as next_session_start_reason
    from events

)
{%- else -%}
loaded_event_ids as (

    select event_id from {{ ref('int_event_ids_changed') }}

),

-- The winning copies this run ranked carry its id; every id it changed may replace a version in the mart.
changed_events as (

    select {{ partition }}, occurred_at, event_id
    from events
    where decided_in_load_id = '{{ invocation_id }}'
        {%- if window is not none %} or ({{ dwell_in_window('occurred_at', window) }}){% endif %}

    union

    -- The versions they replace, which may sit elsewhere in time or in another partition.
    select {{ partition }}, occurred_at, event_id
    from {{ previous_events }}
    where event_id in (select event_id from loaded_event_ids)
        {%- if window is not none %} or ({{ dwell_in_window('occurred_at', window) }}){% endif %}

),

earliest_changes as (

    select {{ partition }}, min(occurred_at) as changed_from_at
    from changed_events
    group by {{ partition }}

),

-- Session boundaries of the mart as the previous run left it: first and last events of its sessions. Each CTE
-- below is read once, except where noted: Spark inlines a CTE at every reference, and each would rerun the chain.
previous_session_edges as (

    select
        {% for column in partition_by %}previous.{{ column }}, {% endfor %}
        previous.occurred_at,
        previous.event_id,
        previous.event_number_in_session = 1 and previous.session_start_reason <> 'max_length' as is_uncut_start,
        previous.is_last_event_in_session,
        previous.session_start_reason,
        earliest_changes.changed_from_at
    from {{ previous_events }} as previous
    inner join earliest_changes
        on {{ dwell_same_partition('previous', 'earliest_changes', partition_by) }}
    where previous.event_number_in_session = 1 or previous.is_last_event_in_session

),

-- Nothing before the last session boundary preceding the uncut session start before the earliest change matters.
-- Found with unordered windows, it keeps the ordered work below to the recent part of each partition.
uncut_floors as (

    select
        *,
        max(case when is_uncut_start and occurred_at < changed_from_at then occurred_at end)
            over (partition by {{ partition }}) as floor_at
    from previous_session_edges

),

kept_from as (

    select
        *,
        coalesce(
            max(case when is_last_event_in_session and occurred_at < floor_at then occurred_at end)
                over (partition by {{ partition }}),
            floor_at
        ) as kept_from_at
    from uncut_floors

),

-- In event order, the boundary before a session's first event is the previous session's last event.
previous_boundaries as (

    select
        {{ partition }},
        occurred_at,
        event_id,
        is_uncut_start,
        session_start_reason,
        lag(occurred_at) over boundary_order as preceding_at,
        lag(event_id) over boundary_order as preceding_event_id
    from kept_from
    where kept_from_at is null or occurred_at >= kept_from_at
    window boundary_order as (
        partition by {{ partition }}
        order by occurred_at, event_id
    )

),

-- Uncut sessions start at every session start except a maximum-length cut. Read twice, by positions.
uncut_starts as (

    select {{ partition }}, occurred_at, event_id, session_start_reason, preceding_at, preceding_event_id
    from previous_boundaries
    where is_uncut_start

),

-- Changes (kind 1), uncut starts (kind 2) and the events preceding uncut starts (kind 0) in one event order. A
-- change's segment starts at the last uncut start before it, and ends at the uncut start whose preceding event is
-- the first after it: every uncut start before that one has its preceding event at or before a change.
positions as (

    select
        {{ partition }},
        occurred_at,
        event_id,
        1 as position_kind,
        cast(null as {{ dbt.type_timestamp() }}) as context_at,
        cast(null as {{ dbt.type_string() }}) as context_event_id,
        cast(null as {{ dbt.type_timestamp() }}) as next_start_at,
        cast(null as {{ dbt.type_string() }}) as next_start_event_id,
        cast(null as {{ dbt.type_string() }}) as next_session_start_reason
    from changed_events

    union all

    select
        {{ partition }},
        occurred_at,
        event_id,
        2 as position_kind,
        preceding_at,
        preceding_event_id,
        cast(null as {{ dbt.type_timestamp() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }})
    from uncut_starts

    union all

    select
        {{ partition }},
        preceding_at,
        preceding_event_id,
        0 as position_kind,
        cast(null as {{ dbt.type_timestamp() }}),
        cast(null as {{ dbt.type_string() }}),
        occurred_at,
        event_id,
        session_start_reason
    from uncut_starts
    where preceding_at is not null

),

-- start_group: the uncut starts at or before a position, so each group holds one uncut start, at its beginning.
-- end_group: the preceding events at or after it, so each group holds one preceding event, at its end.
grouped_positions as (

    select
        *,
        sum(case when position_kind = 2 then 1 else 0 end) over (
            partition by {{ partition }}
            order by occurred_at, event_id, position_kind
            rows between unbounded preceding and current row
        ) as start_group,
        sum(case when position_kind = 0 then 1 else 0 end) over (
            partition by {{ partition }}
            order by occurred_at, event_id, position_kind
            rows between current row and unbounded following
        ) as end_group
    from positions

),

located_changes as (

    select
        {{ partition }},
        position_kind,
        max(case when position_kind = 2 then occurred_at end) over same_start as rebuild_from_at,
        max(case when position_kind = 2 then event_id end) over same_start as rebuild_from_event_id,
        max(context_at) over same_start as context_at,
        max(context_event_id) over same_start as context_event_id,
        max(next_start_at) over same_end as rebuild_until_at,
        max(next_start_event_id) over same_end as rebuild_until_event_id,
        max(next_session_start_reason) over same_end as next_session_start_reason
    from grouped_positions
    window
        same_start as (partition by {{ partition }}, start_group),
        same_end as (partition by {{ partition }}, end_group)

),

change_segments as (

    select distinct
        {{ partition }},
        rebuild_from_at,
        rebuild_from_event_id,
        context_at,
        context_event_id,
        rebuild_until_at,
        rebuild_until_event_id,
        next_session_start_reason
    from located_changes
    where position_kind = 1

),

-- Segments of one partition that overlap or touch are merged: in event order, each change's segment starts and
-- ends no earlier than the previous change's.
segment_breaks as (

    select
        change_segments.*,
        case
            when row_number() over segment_order = 1 then 1
            when lag(rebuild_until_at) over segment_order is null then 0
            when rebuild_from_at is not null
                and {{ dwell_at_or_after('rebuild_from_at', 'rebuild_from_event_id',
                                         'lag(rebuild_until_at) over segment_order',
                                         'lag(rebuild_until_event_id) over segment_order') }} then 1
            else 0
        end as starts_segment
    from change_segments
    window segment_order as (
        partition by {{ partition }}
        order by rebuild_from_at nulls first, rebuild_from_event_id nulls first,
            rebuild_until_at nulls last, rebuild_until_event_id nulls last
    )

),

numbered_segments as (

    select
        segment_breaks.*,
        sum(starts_segment) over (
            partition by {{ partition }}
            order by rebuild_from_at nulls first, rebuild_from_event_id nulls first,
                rebuild_until_at nulls last, rebuild_until_event_id nulls last
            rows between unbounded preceding and current row
        ) as rebuild_segment
    from segment_breaks

),

-- A merged segment starts where its first change's does and ends where its last change's does.
segment_ends as (

    select
        numbered_segments.*,
        last_value(rebuild_until_at) over segment_changes as segment_until_at,
        last_value(rebuild_until_event_id) over segment_changes as segment_until_event_id,
        last_value(next_session_start_reason) over segment_changes as segment_next_session_start_reason
    from numbered_segments
    window segment_changes as (
        partition by {{ partition }}, rebuild_segment
        order by rebuild_from_at nulls first, rebuild_from_event_id nulls first,
            rebuild_until_at nulls last, rebuild_until_event_id nulls last
        rows between unbounded preceding and unbounded following
    )

),

final as (

    select
        {{ partition }},
        rebuild_segment,
        rebuild_from_at,
        rebuild_from_event_id,
        context_at,
        context_event_id,
        segment_until_at as rebuild_until_at,
        segment_until_event_id as rebuild_until_event_id,
        segment_next_session_start_reason as next_session_start_reason
    from segment_ends
    where starts_segment = 1

)
{%- endif %}

select * from final
