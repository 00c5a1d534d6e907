{# One row per concluded session and duration rule it fires (seed session_alert_rules). Only concluded sessions:
    an open one may still grow. Rebuilt from fct_sessions each time (sessions are few next to events); the Dagster
    asset alerts/session_alert_webhook sends each alert_id once. #}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

rules as (

    select * from {{ ref('session_alert_rules') }}

),

fired as (

    select
        sessions.session_id,
        sessions.user_id,
        sessions.workspace_id,
        sessions.session_start_at,
        sessions.session_end_at,
        sessions.duration_seconds,
        rules.rule,
        rules.comparison,
        rules.threshold_seconds,
        rules.description as rule_description
    from sessions
    inner join rules
        on (rules.comparison = 'above' and sessions.duration_seconds > rules.threshold_seconds)
        or (rules.comparison = 'below' and sessions.duration_seconds < rules.threshold_seconds)
    where sessions.is_concluded

),

final as (

    select
        {{ dbt.hash(dwell_concat_keys(['session_id', 'rule'])) }} as alert_id,
        session_id,
        user_id,
        workspace_id,
        session_start_at,
        session_end_at,
        duration_seconds,
        rule,
        comparison,
        threshold_seconds,
        rule_description
    from fired

)

select * from final
