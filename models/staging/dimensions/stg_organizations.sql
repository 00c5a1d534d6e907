-- depends_on: {{ source('landing', 'dimensions') }}

with landed as (

    {{ dwell_read_dimension('organizations') }}

),

cleaned as (

    select
        nullif(trim(organization_id), '') as organization_id,
        nullif(trim(name), '') as organization_name,
        lower(nullif(trim(domain), '')) as organization_domain,
        nullif(trim(plan), '') as plan,
        {{ dwell_parse_timestamp('created_at') }} as created_at
    from landed

),

ranked as (

    select
        *,
        -- A re-exported dimension may repeat a row: the newest version of each id wins.
        row_number() over (partition by organization_id order by created_at desc nulls last, organization_name) as version_rank
    from cleaned
    where organization_id is not null

),

final as (

    select organization_id, organization_name, organization_domain, plan, created_at
    from ranked
    where version_rank = 1

)

select * from final
