-- depends_on: {{ source('landing', 'dimensions') }}

{%- set in_sample = dwell_user_in_sample('user_id') %}

with landed as (

    {{ dwell_read_dimension('workspace_members') }}

),

cleaned as (

    select
        nullif(trim(workspace_id), '') as workspace_id,
        nullif(trim(user_id), '') as user_id,
        lower(nullif(trim(role), '')) as role,
        {{ dwell_parse_timestamp('invited_at') }} as invited_at
    from landed

),

ranked as (

    select
        *,
        -- admin outranks developer when a membership is listed twice.
        row_number() over (
            partition by workspace_id, user_id
            order by case role when 'admin' then 0 when 'developer' then 1 else 2 end, invited_at
        ) as membership_rank
    from cleaned
    where workspace_id is not null and user_id is not null
        {%- if in_sample is not none %}
        -- A user outside the sample (README "Sampling") is left out whole: events, user row and memberships.
        and {{ in_sample }}
        {%- endif %}

),

final as (

    select workspace_id, user_id, role, invited_at
    from ranked
    where membership_rank = 1

)

select * from final
