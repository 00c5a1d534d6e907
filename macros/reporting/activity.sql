{#- Activity by category (README: "Activity by category"). -#}

{#- The reported categories (activity_categories var), validated; `any` is reserved for every counted event. -#}
{% macro dwell_activity_categories() -%}
    {%- set categories = dwell_name_list('activity_categories', var('activity_categories')) -%}
    {%- if 'any' in categories -%}
        {{ exceptions.raise_compiler_error("activity_categories must not list any: it is always reported, as every counted event") }}
    {%- endif -%}
    {{ return(categories) }}
{%- endmacro %}

{#- The inactivity timeout of category sessions in microseconds: activity_timeout_seconds, or when null the session
    timeout. -#}
{% macro dwell_activity_timeout_us() -%}
    {%- set value = var('activity_timeout_seconds', none) -%}
    {%- if value is none -%}
        {{ return(dwell_session_rules().timeout_us) }}
    {%- endif -%}
    {{ return(dwell_microseconds(dwell_seconds_setting('activity_timeout_seconds', value))) }}
{%- endmacro %}

{#- An interval '<N> day(s)|week(s)|month(s)|year(s)' (N >= 1) as (N, unit). -#}
{% macro dwell_activity_interval(interval) -%}
    {%- set match = modules.re.fullmatch(' *([1-9][0-9]{0,4}) +(day|week|month|year)s? *', interval | string | lower) -%}
    {%- if match is none -%}
        {{ exceptions.raise_compiler_error("dwell_activity_report: interval must be like '1 day', '1 week', '90 days', '1 month' or '1 year', got: " ~ interval) }}
    {%- endif -%}
    {{ return((match.group(1) | int, match.group(2))) }}
{%- endmacro %}

{#- A UTC date 'YYYY-MM-DD' as a date object. -#}
{% macro dwell_activity_date(name, value) -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("dwell_activity_report: " ~ name ~ " must be a date YYYY-MM-DD, got: " ~ value) }}
    {%- endif -%}
    {%- set parts = (value | string).split('-') -%}
    {{ return(modules.datetime.date(parts[0] | int, parts[1] | int, parts[2] | int)) }}
{%- endmacro %}

{#- "Active <category> users from start to end, by interval": a query (use it as a subquery, in an analysis or a
    model) over fct_user_activity_daily. One row per bucket and active user (is_total false), and one row per user
    for the whole range [start, end) (is_total true, bucket_start = start, bucket_end = end). Buckets are half-open
    UTC date ranges aligned to start: bucket i starts at start + i intervals (months and years counted from start,
    clamped to a month's last day, not from the previous bucket), the last one ends at end. Activity counts in the
    bucket of its activity_date. organization_id none: every organization (a user's activity in several is summed).
    Columns: is_total, bucket_start, bucket_end, user_id, active_seconds, event_count, session_count. -#}
{% macro dwell_activity_report(start, end, interval, category, organization_id=none) -%}
    {{ return(adapter.dispatch('dwell_activity_report', 'dwell')(start, end, interval, category, organization_id)) }}
{%- endmacro %}

{% macro default__dwell_activity_report(start, end, interval, category, organization_id) -%}
    {%- set start_date = dwell_activity_date('start', start) -%}
    {%- set end_date = dwell_activity_date('end', end) -%}
    {%- if start_date >= end_date -%}
        {{ exceptions.raise_compiler_error("dwell_activity_report: start must be before end, got: " ~ start ~ ", " ~ end) }}
    {%- endif -%}
    {%- if category not in dwell_activity_categories() + ['any'] -%}
        {{ exceptions.raise_compiler_error("dwell_activity_report: category must be any or one of activity_categories " ~ dwell_activity_categories() ~ ", got: " ~ category) }}
    {%- endif -%}
    {%- set step, unit = dwell_activity_interval(interval) -%}
    with dwell_activity as (

        select *
        from {{ ref('fct_user_activity_daily') }}
        where category = {{ dbt.string_literal(category) }}
            and activity_date >= cast('{{ start_date }}' as date)
            and activity_date < cast('{{ end_date }}' as date)
            {%- if organization_id is not none %}
            and organization_id = {{ dbt.string_literal(organization_id) }}
            {%- endif %}

    ),

    -- One row per unit from start, every step-th of which starts a bucket. dbt.date_spine makes as many units as
    -- there are unit boundaries between its ends, one short when a unit starts after the last boundary before end
    -- (2026-01-15 to 2026-02-20 by month: one boundary, two buckets); a spine to one unit past end has them all.
    dwell_units as (

        {{ dbt.date_spine(unit, "cast('" ~ start_date ~ "' as date)",
                          dbt.dateadd(unit, 1, "cast('" ~ end_date ~ "' as date)")) | indent(8) }}

    ),

    dwell_bucket_starts as (

        select cast(date_{{ unit }} as date) as bucket_start
        from (
            select date_{{ unit }}, row_number() over (order by date_{{ unit }}) - 1 as units_from_start
            from dwell_units
        ) as numbered
        where units_from_start % {{ step }} = 0
            and cast(date_{{ unit }} as date) < cast('{{ end_date }}' as date)

    ),

    dwell_buckets as (

        select
            bucket_start,
            coalesce(lead(bucket_start) over (order by bucket_start), cast('{{ end_date }}' as date)) as bucket_end
        from dwell_bucket_starts

    ),

    dwell_by_bucket as (

        select
            false as is_total,
            dwell_buckets.bucket_start,
            dwell_buckets.bucket_end,
            dwell_activity.user_id,
            {{ dwell_sum_seconds('dwell_activity.active_seconds') }} as active_seconds,
            cast(sum(dwell_activity.event_count) as {{ dbt.type_bigint() }}) as event_count,
            cast(sum(dwell_activity.session_count) as {{ dbt.type_bigint() }}) as session_count
        from dwell_activity
        inner join dwell_buckets
            on dwell_activity.activity_date >= dwell_buckets.bucket_start
            and dwell_activity.activity_date < dwell_buckets.bucket_end
        group by dwell_buckets.bucket_start, dwell_buckets.bucket_end, dwell_activity.user_id

    ),

    dwell_totals as (

        select
            true as is_total,
            cast('{{ start_date }}' as date) as bucket_start,
            cast('{{ end_date }}' as date) as bucket_end,
            user_id,
            {{ dwell_sum_seconds('active_seconds') }} as active_seconds,
            cast(sum(event_count) as {{ dbt.type_bigint() }}) as event_count,
            cast(sum(session_count) as {{ dbt.type_bigint() }}) as session_count
        from dwell_activity
        group by user_id

    )

    select * from dwell_by_bucket
    union all
    select * from dwell_totals
{%- endmacro %}
