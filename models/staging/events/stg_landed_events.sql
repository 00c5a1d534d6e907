{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    partition_by=dwell_spark_partition_by('load_id'),
    unique_key='event_id',
    pre_hook="{{ dwell_delete_retracted_rows() }}",
) }}

{%- set future_tolerance_us = dwell_microseconds(dwell_seconds_setting('future_skew_tolerance_seconds', var('future_skew_tolerance_seconds'))) %}
{%- set lookup_list_limit = dwell_count_setting('duplicate_lookup_list_limit', var('duplicate_lookup_list_limit')) %}
{%- set in_sample = dwell_user_in_sample('user_id') %}
-- depends_on: {{ ref('stg_this_run') }}

{#- The columns this table stores besides load_status: earlier copies are read back with them. #}
{%- set stored_columns = ['event_id', 'occurred_at', 'received_at', 'user_id', 'event_name', 'organization_id',
    'workspace_id', 'project_id', 'platform', 'page', 'client_session_id', 'properties', 'occurred_at_raw',
    'received_at_raw', 'source_file', 'source_format', 'source_line_number', 'raw_line', 'load_id', 'loaded_at',
    'quarantine_reason'] %}

{#- A full build reads the landed rows three times (the repeated ids, the single copies, the ranked copies): inlined,
    each read streams, where a CTE written out whole would hold or spill every column of every row. -#}
{%- set full_build_inline = '' if is_incremental() else dwell_inline_cte() %}

{# An incremental run parses only the rows of this run's load, then re-ranks them with the earlier copies of the
    same event ids: a copy received earlier still wins, exactly as in a full build. Rows without an event id are
    only ever appended. #}

with landed as {{ full_build_inline }} (

    select landed.*
    from {{ ref('base_landing_events') }} as landed
    {% if is_incremental() -%}
    where load_id = '{{ invocation_id }}'
    {%- else -%}
    {#- A join to each file's latest retraction, not a correlated `not exists`: DuckDB answers that with a delim join,
        which holds every column of every landed row (4.6 GiB of spill at 10M events under a 400MB memory_limit). #}
    left join (
        select source_file, max(retracted_at) as retracted_at
        from {{ ref('stg_event_retractions') }}
        group by source_file
    ) as latest_retraction
        on landed.source_file = latest_retraction.source_file
    where not coalesce({{ dwell_retracted_by('landed', 'latest_retraction') }}, false)
    {%- endif %}

),

{% if is_incremental() -%}
{%- set earlier_copy_ids = dwell_earlier_copy_ids(lookup_list_limit) %}
-- The ids of the rows this run's retractions took back (the pre-hook deleted them): their other copies are ranked again.
retracted_ids as (

    {{ dwell_retracted_event_ids() | indent(4) }}

),

earlier_copies as (

    select
        {{ stored_columns | join(',\n        ') }}
    from {{ this }}
    {#- One condition on the id column: an `or` of two lookups makes DuckDB read every column of every row. #}
    {%- if earlier_copy_ids is none %}
    {%- set load_ids = "event_id in (select nullif(trim(event_id), '') from landed)" %}
    {%- else %}
    {%- set load_ids = dwell_in_list('event_id', earlier_copy_ids) %}
    {%- endif %}
    where {{ dwell_few_rows_where(this, load_ids ~ ' or event_id in (select event_id from retracted_ids)') }}

),
{%- endif %}

-- Every id that arrived more than once, valid or not: counting needs only the id, not the validation.
repeated_ids as (

    select event_id
    from (
        select nullif(trim(event_id), '') as event_id
        from landed
        {%- if is_incremental() %}

        union all

        select event_id
        from earlier_copies
        {%- endif %}
    ) as arrived_ids
    where event_id is not null
    group by event_id
    having count(*) > 1

),

-- Flagged before parsing: the ranking branch below then parses only the rows it keeps.
flagged as {{ full_build_inline }} (

    select
        landed.*,
        repeated_ids.event_id is not null as has_copies
    from landed
    left join repeated_ids
        on nullif(trim(landed.event_id), '') = repeated_ids.event_id

),

parsed as {{ full_build_inline }} (

    select
        nullif(trim(event_id), '') as event_id,
        -- A typed timestamp is taken as it is; only text is parsed.
        coalesce(occurred_at_timestamp, {{ dwell_parse_timestamp('occurred_at') }}) as occurred_at,
        coalesce(received_at_timestamp, {{ dwell_parse_timestamp('received_at') }}) as parsed_received_at,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(event_name), '') as event_name,
        nullif(trim(organization_id), '') as organization_id,
        nullif(trim(workspace_id), '') as workspace_id,
        nullif(trim(project_id), '') as project_id,
        nullif(trim(platform), '') as platform,
        nullif(trim(page), '') as page,
        nullif(trim(session_id), '') as client_session_id,
        properties,
        occurred_at as occurred_at_raw,
        received_at as received_at_raw,
        occurred_at_timestamp,
        received_at_timestamp,
        source_file,
        source_format,
        source_line_number,
        raw_line,
        file_error,
        ',' || non_text_columns || ',' as non_text_columns,
        load_id,
        loaded_at,
        has_copies
    from flagged

),

classified as {{ full_build_inline }} (

    select
        parsed.*,
        coalesce(parsed_received_at, occurred_at) as received_at,
        case
            when file_error is not null then 'unreadable_file'
            -- A JSON line that is not a JSON object (the reader keeps its text).
            when raw_line is not null then 'unparseable_line'
            when event_id is null then 'missing_event_id'
            when user_id is null then 'missing_user_id'
            when event_name is null then 'missing_event_name'
            -- A number, boolean, object or array where text belongs (the reader keeps its JSON text).
            {%- for column in ['event_id', 'user_id', 'event_name'] %}
            when non_text_columns like '%,{{ column }},%' then 'invalid_{{ column }}'
            {%- endfor %}
            when occurred_at is null and nullif(trim(occurred_at_raw), '') is null then 'missing_occurred_at'
            when occurred_at is null then 'unparseable_occurred_at'
            -- Before any product emitted events: a zeroed or defaulted client clock.
            when occurred_at < cast('2000-01-01' as {{ dbt.type_timestamp() }}) then 'occurred_before_2000'
            when nullif(trim(received_at_raw), '') is not null and parsed_received_at is null
                then 'unparseable_received_at'
            -- A client clock far ahead would otherwise hold the newest-event horizon in the future.
            when {{ dwell_epoch_microseconds('occurred_at') }} - {{ dwell_epoch_microseconds('parsed_received_at') }}
                > {{ future_tolerance_us }}
                then 'occurred_after_received'
            -- Dated after the load's own clock: a client or collector clock far ahead, whose events would otherwise
            -- move every report's newest date into the future.
            when {{ dwell_epoch_microseconds('occurred_at') }} - {{ dwell_epoch_microseconds('loaded_at') }}
                > {{ future_tolerance_us }}
                then 'occurred_in_future'
            when {{ dwell_epoch_microseconds('parsed_received_at') }} - {{ dwell_epoch_microseconds('loaded_at') }}
                > {{ future_tolerance_us }}
                then 'received_in_future'
            {%- for column in dwell_event_text_columns() if column not in ['event_id', 'user_id', 'event_name'] %}
            when non_text_columns like '%,{{ column }},%' then 'invalid_{{ column }}'
            {%- endfor %}
        end as quarantine_reason
    from parsed

),

{#- The landed timestamp texts are kept where they explain a quarantine: two near-unique texts per row are a large
    share of this table's write, and every row's landed text stays in base_landing_events. A typed timestamp's text
    is rendered for those rows only. #}
validated as {{ full_build_inline }} (

    select
        {%- for column in stored_columns %}
        {%- if column.endswith('_raw') %}
        case
            when quarantine_reason is not null
                then coalesce({{ column }}, {{ dwell_timestamp_text(column[:-4] ~ '_timestamp') }})
        end as {{ column }},
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        has_copies
    from classified

),

candidates as {{ full_build_inline }} (

    select * from validated
    {%- if is_incremental() %}

    union all

    select
        *,
        -- An earlier copy shares its id with a row of this load.
        true as has_copies
    from earlier_copies
    {%- endif %}

),

-- Ranking sorts whole rows, so only the valid copies of repeated ids go through it: every other valid row is the only
-- copy of its id, and a quarantined row's rank would not change its status.
ranked as (

    select
        candidates.*,
        1 as copy_number
    from candidates
    where quarantine_reason is not null
        or not has_copies

    union all

    select
        candidates.*,
        -- Of several copies of one event_id the earliest received wins; the rest only make ties deterministic.
        row_number() over (
            partition by event_id
            order by received_at, occurred_at, source_file, load_id, user_id, event_name, workspace_id,
                organization_id, project_id, platform, page, client_session_id, properties
        ) as copy_number
    from candidates
    where quarantine_reason is null
        and has_copies

),

final as (

    select
        {%- for column in stored_columns %}
        {{ column }},
        {%- endfor %}
        case
            when quarantine_reason is not null then 'quarantined'
            when copy_number > 1 then 'duplicate'
            {%- if in_sample is not none %}
            -- Only a winning copy is sampled out, so duplicates count the same at any rate.
            when not ({{ in_sample }}) then 'sampled_out'
            {%- endif %}
            else 'staged'
        end as load_status,
        -- Every row this run writes: the downstream models rebuild what it may have changed.
        '{{ invocation_id }}' as decided_in_load_id
    from ranked

)

select * from final
