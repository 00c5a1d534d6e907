{%- set in_sample = dwell_user_in_sample('owner_user_id') %}

with workspaces as (

    select * from {{ ref('stg_workspaces') }}

),

members as (

    select * from {{ ref('stg_workspace_members') }}

),

owners as (

    select workspace_id, owner_user_id as user_id
    from workspaces
    where owner_user_id is not null
        {%- if in_sample is not none %}
        -- Memberships are per user, so an owner outside the sample (README "Sampling") has none; the workspace keeps
        -- its owner_user_id.
        and {{ in_sample }}
        {%- endif %}

),

all_memberships as (

    select workspace_id, user_id from owners
    union
    select workspace_id, user_id from members

),

final as (

    select
        all_memberships.workspace_id,
        all_memberships.user_id,
        -- An owner administers the workspace whatever the members file says; any role but admin is a developer.
        case
            when owners.user_id is not null or members.role = 'admin' then 'admin'
            else 'developer'
        end as role,
        owners.user_id is not null as is_owner,
        members.user_id is not null as is_invited,
        members.invited_at,
        workspaces.organization_id
    from all_memberships
    left join owners
        on all_memberships.workspace_id = owners.workspace_id
        and all_memberships.user_id = owners.user_id
    left join members
        on all_memberships.workspace_id = members.workspace_id
        and all_memberships.user_id = members.user_id
    left join workspaces
        on all_memberships.workspace_id = workspaces.workspace_id

)

select * from final
