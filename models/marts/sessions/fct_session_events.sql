{{ config(
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_rebuilt_session_events() }}",
) }}

-- depends_on: {{ ref('int_event_ids_changed') }}, {{ ref('int_session_events_rebuilt') }}
-- int_sessions_changed reads this mart as the previous run left it, so it runs first.
-- depends_on: {{ ref('int_sessions_changed') }}

{# Incremental: the changed rows of the rebuilt segments (int_session_events_rebuilt) replace the ones there before,
    and versions replaced by a new copy go (README "Incremental runs"). A full build sessionizes every event here,
    so that they are written once. #}

with rebuilt as (

    {% if dwell_rebuild_mode() == 'full' -%}
    {{ dwell_sessionized_events() | indent(4) }}
    {%- else -%}
    select * from {{ ref('int_session_events_rebuilt') }}
    where is_changed
    {%- endif %}

),

final as (

    select
        {{ dwell_session_event_columns() }}
    from rebuilt

)

select * from final
