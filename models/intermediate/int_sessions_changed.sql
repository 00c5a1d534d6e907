{# The sessions whose events in fct_session_events this run changes: one row per session id that gains, loses or
    changes a row (is_removed: the id is gone after this run). Incremental event-level marts rebuild exactly these
    sessions. Empty on a full build (int_session_events_rebuilt is), when those marts rebuild every session. #}

{%- set full_build = dwell_rebuild_mode() == 'full' %}

-- depends_on: {{ ref('int_event_ids_changed') }}

with rebuilt as (

    select * from {{ ref('int_session_events_rebuilt') }}
    where is_changed

),

{% if full_build -%}
touched as (

    select distinct session_id from rebuilt

),
{%- else -%}
-- Events with a new winning copy in this load: their previous rows go, wherever they were.
recopied_event_ids as (

    {{ dwell_recopied_event_ids() }}

),

touched as (

    select session_id from rebuilt

    union

    select previous_session_id from rebuilt where previous_session_id is not null

    union

    -- Sessions that lose an event to a new copy that no longer counts toward any session or is sampled out.
    select session_id
    from {{ dwell_previous_state('fct_session_events') }}
    where event_id in (select event_id from recopied_event_ids)

),

-- Touched sessions that keep at least one row this run leaves in place. A rebuilt segment holds whole sessions, so
-- those rows are its unchanged ones, and the mart's history need not be read.
surviving as (

    select distinct session_id
    from {{ ref('int_session_events_rebuilt') }}
    where not is_changed

),
{%- endif %}

{#- Joins, not `not in` subqueries in the select list: Spark 3.5 fails to plan those. #}
final as (

    select
        touched.session_id,
        {% if full_build -%}
        false as is_removed
        {%- else -%}
        kept_by_rebuild.session_id is null and kept_in_place.session_id is null as is_removed
        {%- endif %}
    from touched
    {%- if not full_build %}
    left join (select distinct session_id from rebuilt) as kept_by_rebuild
        on kept_by_rebuild.session_id = touched.session_id
    left join surviving as kept_in_place
        on kept_in_place.session_id = touched.session_id
    {%- endif %}

)

select * from final
