{{ config(materialized='incremental', contract={'enforced': true}, incremental_strategy='append', on_schema_change='fail', tags=['daily']) }}

{# One row per load (dbt invocation): what it read and what became of it, the files it could not read or does not
   take (rpt_load_files lists them), how late its events were, and what it did to sessions. Appended by every run;
   a full refresh starts the history again with one row. The sampling rate is kept per load, so a rate changed
   without a full refresh shows (and fails assert_one_sampling_rate). #}

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

    {% if is_incremental() -%}
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

final as (

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
        session_changes.sessions_split
    from outcomes
    cross join files_not_taken
    cross join previous_watermark
    cross join lateness
    cross join session_changes

)

select * from final
