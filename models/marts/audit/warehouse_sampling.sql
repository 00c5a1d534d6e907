{{ config(materialized='table') }}

{# One row: the sampling rate the warehouse holds and what it kept of the events and users seen, so reports can
   scale their counts (README "Sampling"). Rebuilt on every run from two narrow columns of the landed events. #}

with winning_copies as (

    select user_id, load_status
    from {{ ref('stg_landed_events') }}
    where load_status in ('staged', 'sampled_out')

),

counts as (

    select
        count(distinct user_id) as users_seen,
        count(distinct case when load_status = 'staged' then user_id end) as users_kept,
        count(*) as events_seen,
        count(case when load_status = 'staged' then 1 end) as events_kept
    from winning_copies

),

final as (

    select
        cast({{ dwell_sampling_rate() }} as {{ dwell_type_double() }}) as sampling_rate,
        1.0 / cast({{ dwell_sampling_rate() }} as {{ dwell_type_double() }}) as scale_factor,
        users_seen,
        users_kept,
        events_seen,
        events_kept
    from counts

)

select * from final
