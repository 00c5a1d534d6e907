{# The event ids whose staged version this run may change: every id of which stg_landed_events wrote a row (a new
   copy, or an earlier copy ranked again), and every id of the rows a retraction of this run took back. The sessions
   of their previous and current versions are rebuilt. Empty on a full build, which rebuilds every session. #}

-- depends_on: {{ ref('stg_landed_events') }}, {{ ref('stg_event_retractions') }}, {{ ref('base_landing_events') }}

{% if dwell_rebuild_mode() == 'full' -%}
select cast(null as {{ dbt.type_string() }}) as event_id
where 1 = 0
{%- else -%}
with ranked_again as (

    select event_id
    from {{ ref('stg_landed_events') }}
    where decided_in_load_id = '{{ invocation_id }}' and event_id is not null

),

retracted as (

    {{ dwell_retracted_event_ids() | indent(4) }}

),

final as (

    select event_id from ranked_again

    union

    select event_id from retracted

)

select * from final
{%- endif %}
