-- The engagement tiers, in order, start at 0 and each ends where the next starts; only the last is open-ended.
with tiers as (

    select * from {{ ref('engagement_tiers') }}

),

ordered as (

    select
        tier,
        lower_bound_seconds,
        upper_bound_seconds,
        lag(upper_bound_seconds) over (order by lower_bound_seconds) as previous_upper_bound_seconds,
        row_number() over (order by lower_bound_seconds) as tier_number,
        count(*) over () as tier_count
    from tiers

)

select *
from ordered
where (tier_number = 1 and lower_bound_seconds <> 0)
    or (tier_number > 1 and previous_upper_bound_seconds is distinct from lower_bound_seconds)
    or ((upper_bound_seconds is null) <> (tier_number = tier_count))
