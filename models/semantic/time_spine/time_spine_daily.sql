{#- MetricFlow's time spine (docs/metrics.md): one row per day. Landed events before 2000 are quarantined, and the
    range reaches far beyond any data, so every period a metric lands in has its row. -#}

with days as (

    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") | indent(4) }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
