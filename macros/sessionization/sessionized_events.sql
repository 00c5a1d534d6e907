{#- The events a run sessionizes, with the rules of the sessionization vars. A full build: every counted event, as
    fct_session_events stores it (previous_session_id null, is_changed true). An incremental run: the events of the
    segments in int_session_rebuild_scope, each segment sessionized on its own, with the session each event had
    before this run (previous_session_id, from fct_session_events as the previous run left it) and whether its row
    changes (is_changed). -#}
{% macro dwell_sessionized_events() -%}

{%- set rules = dwell_session_rules() %}
{%- set partition_by = rules.partition_by %}
{%- set full_build = dwell_rebuild_mode() == 'full' %}

-- depends_on: {{ ref('int_session_rebuild_scope') }}

with events as (

    select *
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

{% if full_build -%}
scoped_events as (

    select events.*, 1 as rebuild_segment, cast(null as {{ dbt.type_string() }}) as next_session_start_reason, false as is_context
    from events

),
{%- else -%}
scope as (

    select * from {{ ref('int_session_rebuild_scope') }}

),

-- Per partition, the earliest event any segment reads: a one-to-one join that drops the older history before the
-- segments are matched.
partition_floor as (

    select
        {{ partition_by | join(', ') }},
        min(coalesce(context_at, rebuild_from_at)) as floor_at,
        count(*) > count(coalesce(context_at, rebuild_from_at)) as reads_from_beginning
    from scope
    group by {{ partition_by | join(', ') }}

),

recent_events as (

    select events.*
    from events
    inner join partition_floor
        on {{ dwell_same_partition('events', 'partition_floor', partition_by) }}
    where partition_floor.reads_from_beginning or events.occurred_at >= partition_floor.floor_at

),

-- One pass over the events: the segments' events and, for each segment, its context event.
scoped_events as (

    select
        events.*,
        scope.rebuild_segment,
        scope.next_session_start_reason,
        coalesce(events.event_id = scope.context_event_id, false) as is_context
    from recent_events as events
    inner join scope
        on {{ dwell_same_partition('events', 'scope', partition_by) }}
        and (
            ({{ dwell_in_rebuild_segment('events.occurred_at', 'events.event_id', 'scope') }})
            or events.event_id = scope.context_event_id
        )

),
{%- endif %}

sessionized as (

    {{ dwell_sessionize('scoped_events', rules, segment_by=['rebuild_segment']) }}

),

sessionized_events as (

    select
        sessionized.event_id,
        sessionized.session_id,
        sessionized.user_id,
        sessionized.organization_id,
        sessionized.workspace_id,
        sessionized.project_id,
        sessionized.event_name,
        sessionized.category,
        sessionized.platform,
        sessionized.page,
        sessionized.occurred_at,
        sessionized.event_number_in_session,
        sessionized.seconds_since_previous_event,
        sessionized.seconds_since_session_start,
        sessionized.session_start_at,
        sessionized.session_start_reason,
        sessionized.is_last_event_in_session,
        sessionized.rebuild_segment,
        sessionized.next_session_start_reason,
        {% if full_build -%}
        cast(null as {{ dbt.type_string() }}) as previous_session_id,
        true as is_changed
        {%- else -%}
        previous.session_id as previous_session_id,
        -- An event keeps its attributes unless this run ranked its copies again: the pre-hook of fct_session_events
        -- deletes its previous version.
        previous.event_id is null
            or sessionized.decided_in_load_id = '{{ invocation_id }}'
            or {% for column in ['session_id', 'event_number_in_session', 'seconds_since_previous_event',
                                  'seconds_since_session_start', 'session_start_at', 'session_start_reason',
                                  'is_last_event_in_session'] -%}
            sessionized.{{ column }} is distinct from previous.{{ column }}{% if not loop.last %}
            or {% endif %}
            {%- endfor %} as is_changed
        {%- endif %}
    from sessionized
    {% if not full_build -%}
    left join {{ dwell_previous_state('fct_session_events') }} as previous
        on sessionized.event_id = previous.event_id
    {%- endif %}
    where not sessionized.is_context

)

select * from sessionized_events
{%- endmacro %}
