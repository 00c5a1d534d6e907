-- depends_on: {{ source('landing', 'dimensions') }}

with landed as (

    {{ dwell_read_dimension('organizations', ['organization_id', 'name', 'domain', 'plan', 'created_at']) }}

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

final as (

    select *
    from cleaned
    where organization_id is not null
    -- A re-exported dimension may repeat a row: the newest version of each id wins.
    qualify row_number() over (partition by organization_id order by created_at desc nulls last, organization_name) = 1

)

select * from final
