{#- SQL functions an engine needs before models run (on-run-start in dbt_project.yml); none on most engines. -#}
{% macro dwell_create_functions() -%}
    {{ return(adapter.dispatch('dwell_create_functions', 'dwell')()) }}
{%- endmacro %}

{% macro default__dwell_create_functions() -%}
{%- endmacro %}

{#- dwell_utc_timestamp(text): the contract's timestamp parse (dwell_parse_timestamp). A cast that fails is null,
    not an error; a time without a zone is UTC whatever the session's time zone; only ISO-8601 dates count, so
    Postgres's special words ('now', 'epoch', 'today') do not.
    dwell_json_number(document, key): dwell_json_number's value, null when the text is not JSON, or the key is
    absent or holds neither a number nor text that is one (as DuckDB's try_cast of the extracted string).
    dwell_last_non_null(value): an aggregate for dwell_last_non_null, which Postgres's windows lack (no ignore
    nulls); over a frame that starts at the partition's first row it costs one step per row. -#}
{% macro postgres__dwell_create_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace function {{ target.schema }}.dwell_utc_timestamp(value text) returns timestamp
        language plpgsql immutable strict parallel safe
        set timezone = 'UTC'
    as $$
    begin
        if value !~ '^\s*\d{4}-\d{2}-\d{2}([Tt ]|\s*$)' then
            return null;
        end if;
        return value::timestamptz at time zone 'UTC';
    exception when others then
        return null;
    end
    $$;
    create or replace function {{ target.schema }}.dwell_json_number(document text, key text)
        returns double precision
        language plpgsql immutable strict parallel safe
    as $$
    declare
        value jsonb;
    begin
        value := document::jsonb -> key;
        if jsonb_typeof(value) in ('number', 'string') then
            return (value #>> '{}')::double precision;
        end if;
        return null;
    exception when others then
        return null;
    end
    $$;
    create or replace function {{ target.schema }}.dwell_keep_last_non_null(state anyelement, value anyelement)
        returns anyelement
        language sql immutable parallel safe
    as 'select coalesce(value, state)';
    create or replace aggregate {{ target.schema }}.dwell_last_non_null(anyelement) (
        sfunc = {{ target.schema }}.dwell_keep_last_non_null,
        stype = anyelement
    );
{%- endmacro %}

{% macro spark__dwell_create_functions() -%}
    {%- if execute -%}
        {%- set types = {'source_file_size': 'bigint', 'source_file_modified_at': 'timestamp',
                         'source_line_number': 'bigint', 'retracted_file_size': 'bigint',
                         'retracted_file_modified_at': 'timestamp'} -%}
        {%- do dwell_run_statement('create schema if not exists landing') -%}
        {%- for table, columns in dwell_spark_landing_tables().items() -%}
            {%- set definitions = [] -%}
            {%- for column in columns -%}
                {%- do definitions.append(column ~ ' ' ~ types.get(column, 'string')) -%}
            {%- endfor -%}
            {%- do dwell_spark_folder_table('landing.' ~ table, definitions, 'landing/' ~ table) -%}
        {%- endfor -%}
        {#- The session alerts' deliveries, one Parquet file each (orchestration/alerts.py). -#}
        {%- do dwell_run_statement('create schema if not exists delivery') -%}
        {%- do dwell_spark_folder_table('delivery.alert_deliveries',
                                        ['alert_id string', 'delivered_at timestamp', 'http_status int'],
                                        'delivery/alert_deliveries') -%}
    {%- endif -%}
{%- endmacro %}
