{#- Retracting landed event files (README "Retracting a file"): a file moved from <landing>/events/<path> to
    <landing>/retracted/<path> (`dwell retract`) takes back the rows every version of events/<path> loaded before the
    retraction brought. -#}

{#- Every file under <landing>/retracted/ now, with its size and modification time. -#}
{% macro dwell_read_retracted_files() -%}
    {{ return(adapter.dispatch('dwell_read_retracted_files', 'dwell')()) }}
{%- endmacro %}

{% macro duckdb__dwell_read_retracted_files() -%}
    {%- set files = dwell_find_files([dwell_landing_dir() ~ '/retracted/**']) -%}
    {%- if files -%}
    select
        filename as retracted_file,
        size as retracted_file_size,
        make_timestamp(epoch_us(last_modified)) as retracted_file_modified_at
    from read_blob({{ dwell_file_list(files) }})
    {%- else -%}
    select
        cast(null as varchar) as retracted_file,
        cast(null as bigint) as retracted_file_size,
        cast(null as timestamp) as retracted_file_modified_at
    where false
    {%- endif -%}
{%- endmacro %}

{#- Engines that read the landing directory through `dwell copy-landing`: its list of retracted files. -#}
{% macro default__dwell_read_retracted_files() -%}
    select retracted_file, retracted_file_size, retracted_file_modified_at
    from {{ source('landing', 'retracted_files') }}
{%- endmacro %}

{#- The events/ path a retracted/ path takes back. -#}
{% macro dwell_retracted_source_file(retracted_file) -%}
    {%- set root = dwell_landing_dir() -%}
    {%- set path_start = (root ~ '/retracted/') | length + 1 -%}
    {{ dbt.concat([dbt.string_literal(root ~ '/events/'), 'substring(' ~ retracted_file ~ ', ' ~ path_start ~ ')']) }}
{%- endmacro %}

{#- A row of base_landing_events (alias `landed`) that a retraction (alias `retraction`) takes back: from the retracted
    path, loaded before the retraction was recorded. -#}
{% macro dwell_retracted_by(landed, retraction) -%}
    {{ landed }}.source_file = {{ retraction }}.source_file and {{ landed }}.loaded_at < {{ retraction }}.retracted_at
{%- endmacro %}

{#- True when this run recorded a retraction; asked as a model runs, after stg_event_retractions was built. -#}
{% macro dwell_this_run_retracts() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set recorded = run_query('select count(*) from (' ~ dwell_this_runs_retractions() ~ ') as retraction') -%}
    {{ return(recorded.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The retractions this run recorded. -#}
{% macro dwell_this_runs_retractions() -%}
    select source_file, retracted_at
    from {{ ref('stg_event_retractions') }}
    where load_id = '{{ invocation_id }}'
{%- endmacro %}

{#- The event ids of the landed rows this run's retractions take back. -#}
{% macro dwell_retracted_event_ids() -%}
    select distinct nullif(trim(landed.event_id), '') as event_id
    from {{ ref('base_landing_events') }} as landed
    inner join ({{ dwell_this_runs_retractions() }}) as retraction
        on {{ dwell_retracted_by('landed', 'retraction') }}
    where nullif(trim(landed.event_id), '') is not null
{%- endmacro %}

{#- Pre-hook of stg_landed_events: the rows this run's retractions take back leave it, with their copies' ranks
    redone by the model (a row without an event id has no copies). -#}
{% macro dwell_delete_retracted_rows() -%}
    {#- Without a retraction, the delete's join would still scan every staged row. -#}
    {%- if is_incremental() and dwell_this_run_retracts() -%}
        {{ dwell_delete_where(this, 'exists (select 1 from (' ~ dwell_this_runs_retractions() ~ ') as retraction where '
                                    ~ dwell_retracted_by(this, 'retraction') ~ ')') }}
    {%- endif -%}
{%- endmacro %}
