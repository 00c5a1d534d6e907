{#- Sessionization (README: "Sessionization rules").

    dwell_sessionize assigns every event of `events` (a relation or CTE name with at least event_id, occurred_at,
    event_name and the partition columns) to a session. Events are ordered by occurred_at then event_id within
    each partition. An event starts a session when it is the partition's first (first_event), its name is a
    restart event (restart_event), the previous event's name is an end event (after_end_event), or the gap to
    the previous event is strictly greater than the timeout (inactivity), checked in that order. A session found
    so is then cut into pieces of at most max_length seconds measured from its start (max_length).
    All gap arithmetic is in integer microseconds.

    segment_by lists columns that cut a partition into independent stretches of events (the rebuild segments of
    an incremental run): each is sessionized as if it were a partition of its own, but session ids stay those of
    the partition.

    It returns every input column plus: session_id, session_first_event_id, session_start_at, session_start_reason,
    event_number_in_session, seconds_since_previous_event, seconds_since_session_start,
    is_last_event_in_session, occurred_us. -#}

{% macro dwell_sessionize(events, rules, segment_by=[]) -%}
    {%- set segment_by = dwell_identifier_list('segment_by', segment_by) if segment_by else [] -%}
    {{ return(adapter.dispatch('dwell_sessionize', 'dwell')(events, rules.partition_by, segment_by, rules.timeout_us,
                                                            rules.restart_events, rules.end_events, rules.max_length_us)) }}
{%- endmacro %}

{#- Each window pass sorts every event with all its columns, so the passes are as few as the rules allow: one for
    the neighbouring events, one running over the partition. Without a maximum length an activity session is a
    session, and its values are those of the latest session start the running pass has seen. A maximum length cuts
    activity sessions at offsets from their start, which only the running pass knows, so it takes a third pass. -#}
{% macro default__dwell_sessionize(events, partition_by, segment_by, timeout_us, restart_events, end_events, max_length_us) -%}
    {%- set partition = (partition_by + segment_by) | join(', ') -%}
    {%- set is_start = 'dwell_activity_start_reason is not null' -%}
    with dwell_timed as (
        select
            dwell_source.*,
            {{ dwell_epoch_microseconds('dwell_source.occurred_at') }} as occurred_us
        from {{ events }} as dwell_source
    ),

    dwell_neighbours as (
        select
            dwell_timed.*,
            lag(occurred_us) over dwell_partition as dwell_previous_us,
            lag(event_name) over dwell_partition as dwell_previous_event_name
            {%- if max_length_us is none %},
            {{ dwell_next_event_columns('dwell_partition') }}
            {%- endif %}
        from dwell_timed
        window dwell_partition as (partition by {{ partition }} order by occurred_at, event_id)
    ),

    dwell_flagged as (
        select
            dwell_neighbours.*,
            {{ dwell_activity_start_reason(restart_events, end_events, timeout_us) }} as dwell_activity_start_reason
            {%- if max_length_us is none %},
            {{ dwell_is_last_in_activity_session(restart_events, end_events, timeout_us) }} as is_last_event_in_session
            {%- endif %}
        from dwell_neighbours
    ),

    {% if max_length_us is none -%}
    dwell_sessionized as (
        select
            dwell_flagged.*,
            cast(dwell_partition_row + 1 - max(case when {{ is_start }} then dwell_partition_row end)
                over dwell_running as {{ dbt.type_bigint() }}) as event_number_in_session,
            {{ dwell_last_non_null('case when ' ~ is_start ~ ' then event_id end') }}
                over dwell_running as session_first_event_id,
            max(case when {{ is_start }} then occurred_at end) over dwell_running as session_start_at,
            max(case when {{ is_start }} then occurred_us end) over dwell_running as dwell_session_start_us,
            {{ dwell_last_non_null('dwell_activity_start_reason') }} over dwell_running as session_start_reason,
            case when dwell_activity_start_reason is null then dwell_previous_us end as dwell_previous_in_session_us
        from dwell_flagged
        window dwell_running as (
            partition by {{ partition }}
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        )
    )
    {%- else -%}
    dwell_pieces as (
        select
            dwell_flagged.*,
            sum(case when {{ is_start }} then 1 else 0 end) over dwell_running as dwell_activity_session_number,
            cast(floor(
                (occurred_us - max(case when {{ is_start }} then occurred_us end) over dwell_running)
                / {{ max_length_us }}
            ) as bigint) as dwell_piece
        from dwell_flagged
        window dwell_running as (
            partition by {{ partition }}
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        )
    ),

    dwell_sessionized as (
        select
            dwell_pieces.*,
            cast(row_number() over dwell_session as {{ dbt.type_bigint() }}) as event_number_in_session,
            first_value(event_id) over dwell_session as session_first_event_id,
            first_value(occurred_at) over dwell_session as session_start_at,
            first_value(occurred_us) over dwell_session as dwell_session_start_us,
            first_value(coalesce(dwell_activity_start_reason, 'max_length')) over dwell_session as session_start_reason,
            lag(occurred_us) over dwell_session as dwell_previous_in_session_us,
            lead(occurred_us) over dwell_session is null as is_last_event_in_session
        from dwell_pieces
        window dwell_session as (
            partition by {{ partition }}, dwell_activity_session_number, dwell_piece
            order by occurred_at, event_id
        )
    )
    {%- endif %}

    select
        dwell_sessionized.*,
        {{ dwell_session_id(partition_by, 'session_first_event_id') }} as session_id,
        (occurred_us - dwell_previous_in_session_us) / {{ dwell_microseconds_per_second() }} as seconds_since_previous_event,
        (occurred_us - dwell_session_start_us) / {{ dwell_microseconds_per_second() }} as seconds_since_session_start
    from dwell_sessionized
{%- endmacro %}

{#- Why an event starts an activity session (null: it does not), from the event's and the previous event's time and
    name (occurred_us, dwell_previous_us, event_name, dwell_previous_event_name), checked in the order of the rules. -#}
{% macro dwell_activity_start_reason(restart_events, end_events, timeout_us) -%}
    case
        when dwell_previous_us is null then 'first_event'
        when {{ dwell_in_list('event_name', restart_events) }} then 'restart_event'
        when {{ dwell_in_list('dwell_previous_event_name', end_events) }} then 'after_end_event'
        when occurred_us - dwell_previous_us > {{ timeout_us }} then 'inactivity'
    end
{%- endmacro %}

{#- Whether the next event (dwell_next_us, dwell_next_event_name) starts an activity session by the same rules, so
    this event ends one. -#}
{% macro dwell_is_last_in_activity_session(restart_events, end_events, timeout_us) -%}
    case
        when dwell_next_us is null then true
        when {{ dwell_in_list('dwell_next_event_name', restart_events) }} then true
        when {{ dwell_in_list('event_name', end_events) }} then true
        when dwell_next_us - occurred_us > {{ timeout_us }} then true
        else false
    end
{%- endmacro %}

{#- The window columns that look ahead: the event's row number in its partition, the next event's time and name. -#}
{% macro dwell_next_event_columns(window) -%}
    row_number() over {{ window }} as dwell_partition_row,
            lead(occurred_us) over {{ window }} as dwell_next_us,
            lead(event_name) over {{ window }} as dwell_next_event_name
{%- endmacro %}

{#- One row per session of `events` by the rules of dwell_sessionize, for sessions without a maximum length: the
    partition columns, session_first_event_id, session_last_event_id, session_start_at, session_end_at,
    session_start_us, session_end_us, preceding_event_us (the time of the partition's event before the session's
    first; null for the partition's first session), last_event_name, event_count, and each of first_event_columns
    as the session's first event has it. For a caller that needs only these, it is one window pass where
    dwell_sessionize makes two and the caller then groups every event: a session's first and last events are the
    only ones it keeps, and each session's pair is matched in a pass over those alone. -#}
{% macro dwell_session_bounds(events, rules, first_event_columns=[]) -%}
    {%- set first_event_columns = dwell_identifier_list('first_event_columns', first_event_columns) if first_event_columns else [] -%}
    {{ return(adapter.dispatch('dwell_session_bounds', 'dwell')(events, rules.partition_by, rules.timeout_us,
                                                                rules.restart_events, rules.end_events, first_event_columns)) }}
{%- endmacro %}

{% macro default__dwell_session_bounds(events, partition_by, timeout_us, restart_events, end_events, first_event_columns) -%}
    {%- set partition = partition_by | join(', ') -%}
    with dwell_timed as (
        select
            {{ partition }},
            event_id,
            occurred_at,
            {{ dwell_epoch_microseconds('occurred_at') }} as occurred_us,
            event_name
            {%- for column in first_event_columns %},
            {{ column }}
            {%- endfor %}
        from {{ events }}
    ),

    dwell_neighbours as (
        select
            dwell_timed.*,
            lag(occurred_us) over dwell_partition as dwell_previous_us,
            lag(event_name) over dwell_partition as dwell_previous_event_name,
            {{ dwell_next_event_columns('dwell_partition') }}
        from dwell_timed
        window dwell_partition as (partition by {{ partition }} order by occurred_at, event_id)
    ),

    dwell_edges as (
        select
            {{ partition }},
            event_id,
            occurred_at,
            occurred_us,
            dwell_previous_us,
            event_name,
            dwell_partition_row,
            {%- for column in first_event_columns %}
            {{ column }},
            {%- endfor %}
            {{ dwell_activity_start_reason(restart_events, end_events, timeout_us) }} is not null as dwell_is_first,
            {{ dwell_is_last_in_activity_session(restart_events, end_events, timeout_us) }} as dwell_is_last
        from dwell_neighbours
    ),

    -- A session's first event is followed, among the edges, by its last, unless it is the last itself.
    dwell_paired as (
        select
            dwell_edges.*,
            lead(event_id) over dwell_edge_order as dwell_next_edge_event_id,
            lead(event_name) over dwell_edge_order as dwell_next_edge_event_name,
            lead(occurred_at) over dwell_edge_order as dwell_next_edge_at,
            lead(occurred_us) over dwell_edge_order as dwell_next_edge_us,
            lead(dwell_partition_row) over dwell_edge_order as dwell_next_edge_row
        from dwell_edges
        where dwell_is_first or dwell_is_last
        window dwell_edge_order as (partition by {{ partition }} order by dwell_partition_row)
    )

    select
        {{ partition }},
        event_id as session_first_event_id,
        case when dwell_is_last then event_id else dwell_next_edge_event_id end as session_last_event_id,
        occurred_at as session_start_at,
        case when dwell_is_last then occurred_at else dwell_next_edge_at end as session_end_at,
        occurred_us as session_start_us,
        case when dwell_is_last then occurred_us else dwell_next_edge_us end as session_end_us,
        dwell_previous_us as preceding_event_us,
        case when dwell_is_last then event_name else dwell_next_edge_event_name end as last_event_name,
        {%- for column in first_event_columns %}
        {{ column }},
        {%- endfor %}
        cast(
            case when dwell_is_last then 1 else dwell_next_edge_row - dwell_partition_row + 1 end
            as {{ dbt.type_bigint() }}
        ) as event_count
    from dwell_paired
    where dwell_is_first
{%- endmacro %}

{#- The id of a session: a hash of its partition's columns and its first event's id. A caller that aggregates
    dwell_sessionize's output per session can group by session_first_event_id and hash once per session; a hash per
    event is a large share of such a query. -#}
{% macro dwell_session_id(partition_by, first_event_id) -%}
    {{ dbt.hash(dwell_concat_keys(partition_by + [first_event_id])) }}
{%- endmacro %}

{#- Null-safe, unambiguous concatenation of key columns for hashing. -#}
{% macro dwell_concat_keys(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- One row per session from the output of dwell_sessionize: partition columns, session_id, first_event_id,
    session_start_at, session_end_at, duration_seconds, event_count, start_reason, end_reason, is_concluded, and
    for each of first_non_null_columns not in the partition, its first non-null value in the session.

    end_reason: end_event when the last event is an end event; otherwise why the partition's next session
    started (restart_event, inactivity, max_length); with no next session, inactivity when the last event is
    more than the timeout before newest_event_at, else open. A session is concluded unless it is open.

    With segment_by (see dwell_sessionize), "next session" means the next in the segment, and after a segment's
    last session, the one whose start reason next_start_reason_column holds (null: none follows). -#}
{% macro dwell_session_summary(session_events, rules, newest_event_at, first_non_null_columns=[], segment_by=[], next_start_reason_column=none) -%}
    {%- set partition_by, timeout_us, end_events = rules.partition_by, rules.timeout_us, rules.end_events -%}
    {%- set segment_by = dwell_identifier_list('segment_by', segment_by) if segment_by else [] -%}
    {%- set partition = partition_by | join(', ') -%}
    {%- set segment_partition = (partition_by + segment_by) | join(', ') -%}
    with dwell_grouped as (
        select
            {{ segment_partition }},
            session_id,
            max(case when event_number_in_session = 1 then event_id end) as first_event_id,
            min(occurred_at) as session_start_at,
            max(occurred_at) as session_end_at,
            min({{ dwell_epoch_microseconds('occurred_at') }}) as dwell_start_us,
            max({{ dwell_epoch_microseconds('occurred_at') }}) as dwell_end_us,
            count(*) as event_count,
            min(session_start_reason) as start_reason,
            max(case when is_last_event_in_session then event_name end) as last_event_name,
            {% if next_start_reason_column is none -%}
            cast(null as {{ dbt.type_string() }})
            {%- else -%}
            max({{ next_start_reason_column }})
            {%- endif %} as dwell_following_start_reason
            {%- for column in first_non_null_columns if column not in partition_by %},
            {{ dwell_first_non_null(column, 'event_number_in_session') }} as {{ column }}
            {%- endfor %}
        from {{ session_events }}
        group by {{ segment_partition }}, session_id
    ),

    dwell_with_next as (
        select
            dwell_grouped.*,
            coalesce(
                lead(start_reason) over (
                    partition by {{ segment_partition }}
                    order by session_start_at, first_event_id
                ),
                dwell_following_start_reason
            ) as dwell_next_start_reason
        from dwell_grouped
    ),

    dwell_horizon as (
        select {{ dwell_epoch_microseconds(newest_event_at) }} as dwell_newest_us
    ),

    dwell_ended as (
        select
            dwell_with_next.*,
            case
                when {{ dwell_in_list('last_event_name', end_events) }} then 'end_event'
                when dwell_next_start_reason in ('restart_event', 'inactivity', 'max_length') then dwell_next_start_reason
                when dwell_horizon.dwell_newest_us - dwell_end_us > {{ timeout_us }} then 'inactivity'
                else 'open'
            end as end_reason
        from dwell_with_next
        cross join dwell_horizon
    )

    select
        {{ partition }},
        session_id,
        first_event_id,
        session_start_at,
        session_end_at,
        (dwell_end_us - dwell_start_us) / {{ dwell_microseconds_per_second() }} as duration_seconds,
        event_count,
        start_reason,
        end_reason,
        end_reason <> 'open' as is_concluded
        {%- for column in first_non_null_columns if column not in partition_by %},
        {{ column }}
        {%- endfor %}
    from dwell_ended
{%- endmacro %}
