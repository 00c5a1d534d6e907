{# The events of the segments in int_session_rebuild_scope, sessionized segment by segment with the rules of the
    sessionization vars (dwell_sessionized_events); previous_session_id is the session each event had before this
    run. Empty on a full build, which sessionizes every event straight into fct_session_events, so that the events
    are written once (README "Incremental runs"). #}

with segment_events as (

    {{ dwell_sessionized_events() | indent(4) }}

),

final as (

    select * from segment_events
    {%- if dwell_rebuild_mode() == 'full' %}
    where 1 = 0
    {%- endif %}

)

select * from final
