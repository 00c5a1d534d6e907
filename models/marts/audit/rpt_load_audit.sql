{{ config(
    incremental_strategy='delete+insert',
    unique_key='load_id',
    partition_by=dwell_spark_partition_by('load_id'),
    on_schema_change='append_new_columns',
) }}

{%- set this_load_columns = [
    'load_id', 'loaded_at', 'rows_read', 'events_staged', 'events_quarantined', 'events_duplicate',
    'events_sampled_out', 'files_unreadable', 'sampling_rate', 'watermark_before', 'watermark_after', 'late_events',
    'lateness_p50_seconds', 'lateness_p90_seconds', 'lateness_max_seconds', 'sessions_created', 'sessions_extended',
    'sessions_merged', 'sessions_split', 'files_not_taken', 'is_full_refresh', 'files_retracted', 'rows_retracted'] %}
{#- History is never rebuilt, so it may predate a column: its loads had no full refresh after them, and no retraction. #}
{%- set columns_added_later = {
    'files_not_taken': '0', 'is_full_refresh': 'false', 'files_retracted': '0', 'rows_retracted': '0'} %}
{%- set recorded_columns = (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)
    if execute and is_incremental() else [] %}

{# One row per load (dbt invocation): what it read and what became of it then, how late its events were, what it did
   to sessions and what it retracted, the files it could not read or does not take (rpt_load_files lists them); and, rewritten by every run, what its rows are now (a later copy supersedes
   one, a retraction takes some back, a full refresh reads its files again), so that the loads add up to the tables.
   History: kept across full refreshes. #}

with read_rows as (

    select count(*) as rows_read
    from {{ ref('base_landing_events') }}
    where load_id = '{{ invocation_id }}'

),

landed as (

    select * from {{ ref('stg_landed_events') }}
    where load_id = '{{ invocation_id }}'

),

rebuilt_events as (

    {{ dwell_rebuilt_session_events() | indent(4) }}

),

files_not_taken as (

    select count(*) as files_not_taken
    from {{ ref('base_landing_files_not_taken') }}
    where load_id = '{{ invocation_id }}'

),

previous_watermark as (

    {% if is_incremental() and not flags.FULL_REFRESH -%}
    select max(watermark_after) as watermark from {{ this }}
    {%- else -%}
    select cast(null as {{ dbt.type_timestamp() }}) as watermark
    {%- endif %}

),

outcomes as (

    select
        (select rows_read from read_rows) as rows_read,
        count(case when load_status = 'staged' then 1 end) as events_staged,
        count(case when load_status = 'quarantined' then 1 end) as events_quarantined,
        count(case when load_status = 'duplicate' then 1 end) as events_duplicate,
        count(case when load_status = 'sampled_out' then 1 end) as events_sampled_out,
        count(distinct case when quarantine_reason = 'unreadable_file' then source_file end) as files_unreadable,
        max(case when load_status = 'staged' then occurred_at end) as newest_staged_at
    from landed

),

late as (

    select
        ({{ dwell_epoch_microseconds('previous_watermark.watermark') }} - {{ dwell_epoch_microseconds('landed.occurred_at') }})
            / {{ dwell_microseconds_per_second() }} as lateness_seconds
    from landed
    cross join previous_watermark
    where landed.load_status = 'staged'
        and landed.occurred_at < previous_watermark.watermark

),

lateness as (

    select
        count(*) as late_events,
        percentile_cont(0.5) within group (order by lateness_seconds) as lateness_p50_seconds,
        percentile_cont(0.9) within group (order by lateness_seconds) as lateness_p90_seconds,
        max(lateness_seconds) as lateness_max_seconds
    from late

),

session_origins as (

    select
        session_id,
        count(distinct previous_session_id) as previous_sessions,
        count(case when previous_session_id is null then 1 end) as new_events
    from rebuilt_events
    group by session_id

),

previous_destinations as (

    select previous_session_id, count(distinct session_id) as new_sessions
    from rebuilt_events
    where previous_session_id is not null
    group by previous_session_id

),

session_changes as (

    select
        (select count(*) from session_origins where previous_sessions = 0) as sessions_created,
        (select count(*) from session_origins where previous_sessions = 1 and new_events > 0) as sessions_extended,
        (select count(*) from session_origins where previous_sessions > 1) as sessions_merged,
        (select count(*) from previous_destinations where new_sessions > 1) as sessions_split

),

retractions as (

    select
        count(*) as files_retracted,
        (
            select count(*)
            from {{ ref('base_landing_events') }} as landed
            inner join ({{ dwell_this_runs_retractions() }}) as retraction
                on {{ dwell_retracted_by('landed', 'retraction') }}
        ) as rows_retracted
    from ({{ dwell_this_runs_retractions() }}) as retraction

),

this_load as (

    select
        '{{ invocation_id }}' as load_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as loaded_at,
        outcomes.rows_read,
        outcomes.events_staged,
        outcomes.events_quarantined,
        outcomes.events_duplicate,
        outcomes.events_sampled_out,
        outcomes.files_unreadable,
        files_not_taken.files_not_taken,
        cast({{ dwell_sampling_rate() }} as {{ dwell_type_double() }}) as sampling_rate,
        previous_watermark.watermark as watermark_before,
        case
            when previous_watermark.watermark is null or outcomes.newest_staged_at > previous_watermark.watermark
                then outcomes.newest_staged_at
            else previous_watermark.watermark
        end as watermark_after,
        lateness.late_events,
        lateness.lateness_p50_seconds,
        lateness.lateness_p90_seconds,
        lateness.lateness_max_seconds,
        session_changes.sessions_created,
        session_changes.sessions_extended,
        session_changes.sessions_merged,
        session_changes.sessions_split,
        {{ 'true' if flags.FULL_REFRESH else 'false' }} as is_full_refresh,
        retractions.files_retracted,
        retractions.rows_retracted
    from outcomes
    cross join files_not_taken
    cross join previous_watermark
    cross join lateness
    cross join session_changes
    cross join retractions

),

loads as (

    select {{ this_load_columns | join(', ') }} from this_load
    {%- if is_incremental() %}

    union all

    select
        {%- for column in this_load_columns %}
        {{ column if column in recorded_columns else columns_added_later[column] ~ ' as ' ~ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }}
    where load_id <> '{{ invocation_id }}'
    {%- endif %}

),

statuses_now as (

    select
        load_id,
        count(case when load_status = 'staged' then 1 end) as events_staged_now,
        count(case when load_status = 'quarantined' then 1 end) as events_quarantined_now,
        count(case when load_status = 'duplicate' then 1 end) as events_duplicate_now,
        count(case when load_status = 'sampled_out' then 1 end) as events_sampled_out_now
    from {{ ref('stg_landed_events') }}
    group by load_id

),

retracted_now as (

    select landed.load_id, count(*) as events_retracted_now
    from {{ ref('base_landing_events') }} as landed
    inner join {{ ref('stg_event_retractions') }} as retraction
        on {{ dwell_retracted_by('landed', 'retraction') }}
    group by landed.load_id

),

-- Each load's files were read again by the first full refresh after it.
next_full_refreshes as (

    select
        load_id,
        min(case when is_full_refresh then loaded_at end)
            over (order by loaded_at rows between 1 following and unbounded following) as replaced_at
    from loads

),

final as (

    select
        loads.*,
        coalesce(statuses_now.events_staged_now, 0) as events_staged_now,
        coalesce(statuses_now.events_quarantined_now, 0) as events_quarantined_now,
        coalesce(statuses_now.events_duplicate_now, 0) as events_duplicate_now,
        coalesce(statuses_now.events_sampled_out_now, 0) as events_sampled_out_now,
        coalesce(retracted_now.events_retracted_now, 0) as events_retracted_now,
        replacing.load_id as replaced_by_load_id
    from loads
    inner join next_full_refreshes
        on next_full_refreshes.load_id = loads.load_id
    left join loads as replacing
        on replacing.is_full_refresh and replacing.loaded_at = next_full_refreshes.replaced_at
    left join statuses_now
        on statuses_now.load_id = loads.load_id
    left join retracted_now
        on retracted_now.load_id = loads.load_id

)

select * from final
