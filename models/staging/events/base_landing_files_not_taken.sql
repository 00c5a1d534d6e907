{{ config(materialized='incremental', on_schema_change='append_new_columns') }}

-- depends_on: {{ source('landing', 'events') }}

{# Every version (path, size, modification time) of a file under the landing directory's events/ that the event
   reader does not take, recorded once, by the load that first found it: nothing landed there goes unreported. #}
{{ dwell_read_files_not_taken(already_recorded=this if is_incremental() else none) }}
