{# One row per session partition this run rebuilds, from (rebuild_from_at, rebuild_from_event_id): the start of
    the uncut session before the partition's earliest changed event (null: from the beginning), with the event
    just before it (context_event_id) to give the first rebuilt event its start reason.

    Changed events: those of this run's load (new copies and the versions they replace), and on a partitioned run
    every event in the window [window_start, window_end). A full build rebuilds every partition. #}

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
        cast(null as {{ dbt.type_timestamp() }}) as rebuild_from_at,
        cast(null as {{ dbt.type_string() }}) as rebuild_from_event_id,
        cast(null as {{ dbt.type_string() }}) as context_event_id
    from events

)
{%- else -%}
loaded_event_ids as (

    select event_id
    from {{ ref('stg_landed_events') }}
    where load_id = '{{ invocation_id }}' and event_id is not null

),

changed_events as (

    select {{ partition }}, occurred_at, event_id
    from events
    where event_id in (select event_id from loaded_event_ids)
        {%- if window is not none %} or ({{ dwell_in_window('occurred_at', window) }}){% endif %}

    union all

    -- The versions they replace, which may sit elsewhere in time or in another partition.
    select {{ partition }}, occurred_at, event_id
    from {{ previous_events }}
    where event_id in (select event_id from loaded_event_ids)
        {%- if window is not none %} or ({{ dwell_in_window('occurred_at', window) }}){% endif %}

),

earliest_change_at as (

    select {{ partition }}, min(occurred_at) as changed_from_at
    from changed_events
    group by {{ partition }}

),

earliest_change as (

    select
        {% for column in partition_by %}earliest_change_at.{{ column }}, {% endfor %}
        earliest_change_at.changed_from_at,
        min(changed_events.event_id) as changed_from_event_id
    from earliest_change_at
    inner join changed_events
        on {{ dwell_same_partition('changed_events', 'earliest_change_at', partition_by) }}
        and changed_events.occurred_at = earliest_change_at.changed_from_at
    group by {% for column in partition_by %}earliest_change_at.{{ column }}, {% endfor %}earliest_change_at.changed_from_at

),

-- Uncut sessions start at every session start except a maximum-length cut.
earlier_uncut_starts as (

    select
        {% for column in partition_by %}earliest_change.{{ column }}, {% endfor %}
        previous.occurred_at,
        previous.event_id
    from earliest_change
    inner join {{ previous_events }} as previous
        on {{ dwell_same_partition('previous', 'earliest_change', partition_by) }}
    where previous.event_number_in_session = 1
        and previous.session_start_reason <> 'max_length'
        and not {{ dwell_at_or_after('previous.occurred_at', 'previous.event_id',
                                     'earliest_change.changed_from_at', 'earliest_change.changed_from_event_id') }}

),

latest_uncut_start_at as (

    select {{ partition }}, max(occurred_at) as rebuild_from_at
    from earlier_uncut_starts
    group by {{ partition }}

),

rebuild_from as (

    select
        {% for column in partition_by %}latest_uncut_start_at.{{ column }}, {% endfor %}
        latest_uncut_start_at.rebuild_from_at,
        max(earlier_uncut_starts.event_id) as rebuild_from_event_id
    from latest_uncut_start_at
    inner join earlier_uncut_starts
        on {{ dwell_same_partition('earlier_uncut_starts', 'latest_uncut_start_at', partition_by) }}
        and earlier_uncut_starts.occurred_at = latest_uncut_start_at.rebuild_from_at
    group by {% for column in partition_by %}latest_uncut_start_at.{{ column }}, {% endfor %}latest_uncut_start_at.rebuild_from_at

),

-- The context: the previous session's last event, the one right before the rebuild starts.
context as (

    select
        {% for column in partition_by %}rebuild_from.{{ column }}, {% endfor %}
        max(previous.occurred_at) as context_at
    from rebuild_from
    inner join {{ previous_events }} as previous
        on {{ dwell_same_partition('previous', 'rebuild_from', partition_by) }}
    where previous.is_last_event_in_session
        and not {{ dwell_at_or_after('previous.occurred_at', 'previous.event_id',
                                     'rebuild_from.rebuild_from_at', 'rebuild_from.rebuild_from_event_id') }}
    group by {% for column in partition_by %}rebuild_from.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}

),

context_event as (

    select
        {% for column in partition_by %}context.{{ column }}, {% endfor %}
        max(previous.event_id) as context_event_id
    from context
    inner join {{ previous_events }} as previous
        on {{ dwell_same_partition('previous', 'context', partition_by) }}
        and previous.occurred_at = context.context_at
    where previous.is_last_event_in_session
    group by {% for column in partition_by %}context.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}

),

final as (

    select
        {% for column in partition_by %}earliest_change.{{ column }}, {% endfor %}
        rebuild_from.rebuild_from_at,
        rebuild_from.rebuild_from_event_id,
        context_event.context_event_id
    from earliest_change
    left join rebuild_from
        on {{ dwell_same_partition('rebuild_from', 'earliest_change', partition_by) }}
    left join context_event
        on {{ dwell_same_partition('context_event', 'earliest_change', partition_by) }}

)
{%- endif %}

select * from final
