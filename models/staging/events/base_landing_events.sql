{{ config(materialized='table') }}

-- depends_on: {{ source('landing', 'events') }}

{# Every row read from the landing directory's event files, untouched: every contract column as text.
    Materialized once so the files are read once per build. #}
{{ dwell_read_landed_events() }}
