{# The events of the partitions in int_session_rebuild_scope, from where each is rebuilt, sessionized with the
    rules of the sessionization vars; previous_session_id is the session each event had before this run. #}

{%- set partition_by = dwell_session_partition(var('session_partition_by')) %}
{%- set full_build = dwell_rebuild_mode() == 'full' %}

-- depends_on: {{ ref('int_session_rebuild_scope') }}

with events as (

    select *
    from {{ ref('int_events_categorized') }}
    where counts_toward_session

),

{% if full_build -%}
scoped_events as (

    select events.*, false as is_context
    from events

),
{%- else -%}
scope as (

    select * from {{ ref('int_session_rebuild_scope') }}

),

scoped_events as (

    select events.*, false as is_context
    from events
    inner join scope
        on {{ dwell_same_partition('events', 'scope', partition_by) }}
    where {{ dwell_at_or_after('events.occurred_at', 'events.event_id', 'scope.rebuild_from_at', 'scope.rebuild_from_event_id') }}

    union all

    select events.*, true as is_context
    from events
    inner join scope
        on events.event_id = scope.context_event_id

),
{%- endif %}

sessionized as (

    {{ dwell_sessionize(
        'scoped_events',
        partition_by=var('session_partition_by'),
        timeout_seconds=var('session_timeout_seconds'),
        restart_events=var('session_restart_events'),
        end_events=var('session_end_events'),
        max_length_seconds=var('session_max_length_seconds'),
    ) }}

),

final as (

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
        {% if full_build -%}
        cast(null as {{ dbt.type_string() }}) as previous_session_id
        {%- else -%}
        previous.session_id as previous_session_id
        {%- endif %}
    from sessionized
    {% if not full_build -%}
    left join {{ dwell_previous_state('fct_session_events') }} as previous
        on sessionized.event_id = previous.event_id
    {%- endif %}
    where not sessionized.is_context

)

select * from final
