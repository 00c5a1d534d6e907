{{ config(materialized='incremental', on_schema_change='append_new_columns') }}

-- depends_on: {{ source('landing', 'events') }}

{# Every row read from the landing directory's event files, untouched: every contract column as text. Each run
   reads only the files not loaded before with the same size and modification time, so a run costs in
   proportion to what landed since the last one. #}
{{ dwell_read_landed_events(already_loaded=this if is_incremental() else none) }}
