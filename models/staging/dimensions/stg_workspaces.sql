-- depends_on: {{ source('landing', 'dimensions') }}

with landed as (

    {{ dwell_read_dimension('workspaces') }}

),

cleaned as (

    select
        nullif(trim(workspace_id), '') as workspace_id,
        nullif(trim(name), '') as workspace_name,
        nullif(trim(organization_id), '') as organization_id,
        nullif(trim(owner_user_id), '') as owner_user_id,
        {{ dwell_parse_timestamp('created_at') }} as created_at
    from landed

),

ranked as (

    select
        *,
        row_number() over (partition by workspace_id order by created_at desc nulls last, workspace_name) as version_rank
    from cleaned
    where workspace_id is not null

),

final as (

    select workspace_id, workspace_name, organization_id, owner_user_id, created_at
    from ranked
    where version_rank = 1

)

select * from final
