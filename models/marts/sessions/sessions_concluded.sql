{{ config(
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_rebuilt_user_rows('concluded_at') }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Incremental by user: a session a run changes, or concludes because newer data arrived (its events unchanged),
   starts, and so ends, at or after its user's rebuild point (int_session_user_scope). The pre-hook deletes each
   scoped user's rows concluded from that point on, and this model writes them again from fct_sessions. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

rebuilt_sessions as (

    {{ dwell_rebuilt_user_rows('sessions', 'session_end_at') | indent(4) }}

),

final as (

    select
        session_id,
        user_id,
        session_end_at as concluded_at,
        duration_seconds,
        session_date
    from rebuilt_sessions
    where is_concluded

)

select * from final
