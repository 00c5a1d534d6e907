{# Every move of events from one session id to another that a run made, so consumers that stored ids can follow
   them: a late event that merges two sessions maps both old ids to the merged one (at least one old id is
   retired); a late restart event that splits a session maps the old id to each new piece; a late event before
   a session's first event retires its id for a new one. #}

with rebuilt_events as (

    select * from {{ ref('int_session_events_rebuilt') }}

),

moves as (

    select
        previous_session_id,
        session_id,
        count(*) as event_count
    from rebuilt_events
    where previous_session_id is not null
        and previous_session_id <> session_id
    group by previous_session_id, session_id

),

session_ids_in_use as (

    select distinct session_id from rebuilt_events

),

{#- A join, not a `not in` subquery in the select list: Spark 3.5 fails to plan those. #}
final as (

    select
        moves.previous_session_id as old_session_id,
        moves.session_id as new_session_id,
        moves.event_count as events_moved,
        session_ids_in_use.session_id is null as is_old_session_id_retired,
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as changed_at
    from moves
    left join session_ids_in_use
        on session_ids_in_use.session_id = moves.previous_session_id

)

select * from final
