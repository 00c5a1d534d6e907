{{ config(
    partition_by=dwell_spark_partition_by('session_date'),
    pre_hook="{{ dwell_delete_rebuilt_sessions() }}",
) }}

-- depends_on: {{ ref('int_session_user_scope') }}

{# Incremental: the sessions of int_sessions_rebuilt replace each scoped user's sessions from the user's rebuild
   point (README "Incremental runs"); a full build writes every session. #}

select * from {{ ref('int_sessions_rebuilt') }}
