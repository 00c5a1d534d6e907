{# Sessions per day and length bucket. Buckets are half-open [lower, upper) between the edges of
   session_length_bucket_edges_seconds, from 0 to an open-ended last one; every bucket appears on every day that
   has sessions. Lengths and edges are compared in whole microseconds, so a length equal to an edge is exact. #}

{%- set edges = dwell_seconds_edges_setting('session_length_bucket_edges_seconds', var('session_length_bucket_edges_seconds')) %}
{%- set bounds = [0] + edges %}

with sessions as (

    select * from {{ ref('fct_sessions') }}

),

buckets as (

    {% for lower in bounds -%}
    {%- set upper = edges[loop.index0] if loop.index0 < edges | length else none -%}
    select
        cast({{ loop.index }} as integer) as bucket_number,
        cast({{ lower }} as {{ dwell_type_double() }}) as lower_seconds,
        cast({{ 'null' if upper is none else upper }} as {{ dwell_type_double() }}) as upper_seconds,
        cast({{ dbt.string_literal(dwell_duration_label(lower) ~ ('+' if upper is none else '-' ~ dwell_duration_label(upper))) }} as {{ dbt.type_string() }}) as bucket_label,
        cast({{ dwell_microseconds(lower) if lower > 0 else 0 }} as bigint) as lower_us,
        cast({{ 'null' if upper is none else dwell_microseconds(upper) }} as bigint) as upper_us
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

days as (

    select distinct session_date as day from sessions

),

bucketed_sessions as (

    select
        sessions.session_date as day,
        buckets.bucket_number
    from sessions
    inner join buckets
        on {{ dwell_seconds_to_microseconds('sessions.duration_seconds') }} >= buckets.lower_us
        and (buckets.upper_us is null or {{ dwell_seconds_to_microseconds('sessions.duration_seconds') }} < buckets.upper_us)

),

counts as (

    select day, bucket_number, count(*) as session_count
    from bucketed_sessions
    group by day, bucket_number

),

final as (

    select
        days.day,
        buckets.bucket_number,
        buckets.lower_seconds,
        buckets.upper_seconds,
        buckets.bucket_label,
        coalesce(counts.session_count, 0) as session_count
    from days
    cross join buckets
    left join counts
        on days.day = counts.day
        and buckets.bucket_number = counts.bucket_number

)

select * from final
