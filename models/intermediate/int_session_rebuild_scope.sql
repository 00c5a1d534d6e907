{# The segments of session partitions this run rebuilds (README "Incremental runs"): each runs from
    (rebuild_from_at, rebuild_from_event_id), an uncut session start before a changed event (null: the partition's
    beginning), up to but excluding (rebuild_until_at, rebuild_until_event_id), an uncut session start after the
    changes that keeps its place (null: the partition's end). (context_at, context_event_id) is the event just before the
    segment, which gives the first rebuilt event its start reason; next_session_start_reason is the start reason
    of the session at the segment's end, which gives the last rebuilt session its end reason.

    Changed events: those of this run's load (new copies and the versions they replace), and on a partitioned run
    every event in the window [DWELL_WINDOW_START, DWELL_WINDOW_END). A full build has one segment per partition:
    all of it. #}

{%- set partition_by = dwell_session_partition(var('session_partition_by')) %}
{%- set partition = partition_by | join(', ') %}
{%- set window = dwell_partition_window() %}
{%- set previous_events = dwell_previous_state('fct_session_events') %}

-- depends_on: {{ ref('stg_landed_events') }}

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

    select event_id
    from {{ ref('stg_landed_events') }}
    where load_id = '{{ invocation_id }}' and event_id is not null

),

-- This load's winning copies carry its load_id; every id it read may replace a version in the mart.
changed_events as (

    select {{ partition }}, occurred_at, event_id
    from events
    where load_id = '{{ invocation_id }}'
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

-- Session boundaries of the mart as the previous run left it: first and last events of its sessions.
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
-- Found with aggregates (no sort), it keeps the ordered work below to the recent part of each partition.
uncut_floor as (

    select {{ partition }}, max(occurred_at) as floor_at
    from previous_session_edges
    where is_uncut_start and occurred_at < changed_from_at
    group by {{ partition }}

),

kept_from as (

    select
        {% for column in partition_by %}uncut_floor.{{ column }}, {% endfor %}
        coalesce(max(edges.occurred_at), uncut_floor.floor_at) as kept_from_at
    from uncut_floor
    left join previous_session_edges as edges
        on {{ dwell_same_partition('edges', 'uncut_floor', partition_by) }}
        and edges.is_last_event_in_session
        and edges.occurred_at < uncut_floor.floor_at
    group by {% for column in partition_by %}uncut_floor.{{ column }}, {% endfor %}uncut_floor.floor_at

),

-- In event order, the boundary before a session's first event is the previous session's last event.
previous_boundaries as (

    select
        {% for column in partition_by %}edges.{{ column }}, {% endfor %}
        edges.occurred_at,
        edges.event_id,
        edges.is_uncut_start,
        edges.session_start_reason,
        lag(edges.occurred_at) over boundary_order as preceding_at,
        lag(edges.event_id) over boundary_order as preceding_event_id
    from previous_session_edges as edges
    left join kept_from
        on {{ dwell_same_partition('kept_from', 'edges', partition_by) }}
    where kept_from.kept_from_at is null or edges.occurred_at >= kept_from.kept_from_at
    window boundary_order as (
        partition by {% for column in partition_by %}edges.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
        order by edges.occurred_at, edges.event_id
    )

),

-- Uncut sessions start at every session start except a maximum-length cut. start_number counts them;
-- preceded_number counts those with an event before them.
uncut_starts as (

    select
        {{ partition }},
        occurred_at,
        event_id,
        session_start_reason,
        preceding_at,
        preceding_event_id,
        row_number() over (partition by {{ partition }} order by occurred_at, event_id) as start_number,
        count(preceding_at) over (
            partition by {{ partition }}
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as preceded_number
    from previous_boundaries
    where is_uncut_start

),

-- Changes, uncut starts and the events preceding uncut starts in one event order. For each change: the uncut
-- starts strictly before it (the last is where its segment starts), and the uncut starts whose preceding event
-- is at or before it (the next one, whose preceding event is after every change up to here, keeps its place).
positions as (

    select {{ partition }}, occurred_at, event_id, 1 as position_kind
    from changed_events

    union all

    select {{ partition }}, occurred_at, event_id, 2 as position_kind
    from uncut_starts

    union all

    select {{ partition }}, preceding_at, preceding_event_id, 0 as position_kind
    from uncut_starts
    where preceding_at is not null

),

counted_positions as (

    select
        {{ partition }},
        occurred_at,
        event_id,
        position_kind,
        sum(case when position_kind = 2 then 1 else 0 end) over position_order as starts_before,
        sum(case when position_kind = 0 then 1 else 0 end) over position_order as preceded_through
    from positions
    window position_order as (
        partition by {{ partition }}
        order by occurred_at, event_id, position_kind
        rows between unbounded preceding and current row
    )

),

change_segments as (

    select distinct
        {% for column in partition_by %}changes.{{ column }}, {% endfor %}
        segment_start.occurred_at as rebuild_from_at,
        segment_start.event_id as rebuild_from_event_id,
        segment_start.preceding_at as context_at,
        segment_start.preceding_event_id as context_event_id,
        segment_end.occurred_at as rebuild_until_at,
        segment_end.event_id as rebuild_until_event_id,
        segment_end.session_start_reason as next_session_start_reason
    from counted_positions as changes
    left join uncut_starts as segment_start
        on {{ dwell_same_partition('segment_start', 'changes', partition_by) }}
        and segment_start.start_number = changes.starts_before
    left join uncut_starts as segment_end
        on {{ dwell_same_partition('segment_end', 'changes', partition_by) }}
        and segment_end.preceding_at is not null
        and segment_end.preceded_number = changes.preceded_through + 1
    where changes.position_kind = 1

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
        ) as rebuild_segment,
        row_number() over (
            partition by {{ partition }}
            order by rebuild_from_at desc nulls last, rebuild_from_event_id desc nulls last,
                rebuild_until_at desc nulls first, rebuild_until_event_id desc nulls first
        ) as number_from_end
    from segment_breaks

),

final as (

    select
        {% for column in partition_by %}first_change.{{ column }}, {% endfor %}
        first_change.rebuild_segment,
        first_change.rebuild_from_at,
        first_change.rebuild_from_event_id,
        first_change.context_at,
        first_change.context_event_id,
        last_change.rebuild_until_at,
        last_change.rebuild_until_event_id,
        last_change.next_session_start_reason
    from numbered_segments as first_change
    inner join (
        select
            {{ partition }},
            rebuild_segment,
            min(number_from_end) as number_from_end
        from numbered_segments
        group by {{ partition }}, rebuild_segment
    ) as segment_last
        on {{ dwell_same_partition('segment_last', 'first_change', partition_by) }}
        and segment_last.rebuild_segment = first_change.rebuild_segment
    inner join numbered_segments as last_change
        on {{ dwell_same_partition('last_change', 'segment_last', partition_by) }}
        and last_change.number_from_end = segment_last.number_from_end
    where first_change.starts_segment = 1

)
{%- endif %}

select * from final
