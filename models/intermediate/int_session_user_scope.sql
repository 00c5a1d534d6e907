{# One row per user whose sessions fct_sessions rebuilds this run, from (rebuild_from_at, rebuild_from_event_id)
    in session order (null: all of them). Per user because session_number counts across the user's partitions.
    Besides the users of rebuilt partitions: users whose open session the newest data has concluded. #}

{%- set timeout_us = dwell_session_rules().timeout_us %}

-- depends_on: {{ ref('stg_events') }}

with partition_scope as (

    select * from {{ ref('int_session_rebuild_scope') }}

),

{% if dwell_rebuild_mode() == 'full' -%}
final as (

    select distinct
        user_id,
        cast(null as {{ dbt.type_timestamp() }}) as rebuild_from_at,
        cast(null as {{ dbt.type_string() }}) as rebuild_from_event_id
    from partition_scope

)
{%- else -%}
staged_events as (

    select * from {{ ref('stg_events') }}

),

candidates as (

    select user_id, rebuild_from_at, rebuild_from_event_id
    from partition_scope

    union all

    select user_id, session_start_at, first_event_id
    from {{ dwell_previous_state('fct_sessions') }}
    where end_reason = 'open'
        and {{ dwell_epoch_microseconds('(select max(occurred_at) from staged_events)') }}
            - {{ dwell_epoch_microseconds('session_end_at') }} > {{ timeout_us }}

),

from_the_beginning as (

    select distinct user_id
    from candidates
    where rebuild_from_at is null

),

earliest_at as (

    select user_id, min(rebuild_from_at) as rebuild_from_at
    from candidates
    where user_id not in (select user_id from from_the_beginning)
    group by user_id

),

final as (

    select
        user_id,
        cast(null as {{ dbt.type_timestamp() }}) as rebuild_from_at,
        cast(null as {{ dbt.type_string() }}) as rebuild_from_event_id
    from from_the_beginning

    union all

    select earliest_at.user_id, earliest_at.rebuild_from_at, min(candidates.rebuild_from_event_id)
    from earliest_at
    inner join candidates
        on candidates.user_id = earliest_at.user_id
        and candidates.rebuild_from_at = earliest_at.rebuild_from_at
    group by earliest_at.user_id, earliest_at.rebuild_from_at

)
{%- endif %}

select * from final
