-- depends_on: {{ source('landing', 'dimensions') }}

{%- set in_sample = dwell_user_in_sample('user_id') %}

with landed as (

    {{ dwell_read_dimension('users') }}

),

cleaned as (

    select
        nullif(trim(user_id), '') as user_id,
        lower(nullif(trim(email), '')) as email,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(company), '') as company,
        nullif(trim(organization_id), '') as organization_id,
        {{ dwell_parse_timestamp('registered_at') }} as registered_at
    from landed

),

ranked as (

    select
        *,
        row_number() over (partition by user_id order by registered_at desc nulls last, email) as version_rank
    from cleaned
    where user_id is not null
        {%- if in_sample is not none %}
        -- A user outside the sample (README "Sampling") is left out whole: events, user row and memberships.
        and {{ in_sample }}
        {%- endif %}

),

final as (

    select
        user_id,
        email,
        nullif(split_part(email, '@', 2), '') as email_domain,
        first_name,
        last_name,
        company,
        organization_id,
        registered_at
    from ranked
    where version_rank = 1

)

select * from final
