{{ config(contract={'enforced': true}, tags=['daily']) }}

{# A table from fct_sessions on every run: an open session becomes concluded when newer data arrives, without
   any change to its events. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

final as (

    select
        session_id,
        user_id,
        session_end_at as concluded_at,
        duration_seconds
    from sessions
    where is_concluded

)

select * from final
