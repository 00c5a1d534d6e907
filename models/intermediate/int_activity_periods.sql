{{ config(materialized='view', tags=['lifetime']) }}

{%- set zone = dwell_reporting_time_zone() %}

{# Each quarter-hour activity row once per reporting grain, with the period it falls in, in reporting_time_zone. A
    view: the period reports read it once per build. #}

with activity as (

    select * from {{ ref('int_activity_quarter_hours') }}

),

localized as (

    select
        activity.*,
        {{ dwell_utc_to_local('quarter_hour_at', zone) }} as local_quarter_hour_at
    from activity

),

final as (

    {% for grain in ['day', 'week', 'month'] -%}
    select
        '{{ grain }}' as grain,
        {{ dwell_period_start(grain, 'local_quarter_hour_at') }} as period_start,
        localized.*
    from localized

    union all

    {% endfor -%}
    select
        'lifetime' as grain,
        cast(null as date) as period_start,
        localized.*
    from localized

)

select * from final
