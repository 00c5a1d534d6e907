{#- Finding the earlier copies of a load's event ids in stg_landed_events (README "Incremental runs"). -#}

{#- The event ids of this load that stg_landed_events already holds, as a list, or none when there are more than
    `limit` (then the model joins instead). With a literal list, the scan for their earlier copies can read the wide
    columns only where an id matches (dwell_few_rows_where), instead of for all of history. -#}
{% macro dwell_earlier_copy_ids(limit) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set query -%}
        select distinct event_id
        from {{ this }}
        where event_id in (
            select nullif(trim(event_id), '')
            from {{ ref('base_landing_events') }}
            where load_id = '{{ invocation_id }}'
        )
        limit {{ limit + 1 }}
    {%- endset -%}
    {%- set ids = run_query(query).columns[0].values() | list -%}
    {{ return(none if ids | length > limit else ids) }}
{%- endmacro %}

{#- A where clause for the few rows of relation for which condition holds, on one column. -#}
{% macro dwell_few_rows_where(relation, condition) -%}
    {{ return(adapter.dispatch('dwell_few_rows_where', 'dwell')(relation, condition)) }}
{%- endmacro %}

{% macro default__dwell_few_rows_where(relation, condition) -%}
    {{ condition }}
{%- endmacro %}

{#- DuckDB plans a long in-list as a join, which reads every column of every row. The row ids of the matches, found
    by reading the condition's column alone, become a filter the second scan applies before it reads the other
    columns (both scans see one snapshot, so the row ids agree). -#}
{% macro duckdb__dwell_few_rows_where(relation, condition) -%}
    rowid in (select rowid from {{ relation }} where {{ condition }})
{%- endmacro %}
