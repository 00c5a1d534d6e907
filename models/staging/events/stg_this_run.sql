{{ config(materialized='table') }}

{# One row: the run that builds the daily models, and whether it rebuilds them from all history (a first build, a full
   refresh, a change of rules) or only what it changed. Built before the models whose existence it judges
   (stg_landed_events depends on it). The data tests of the incremental models read it to check the rows this run
   wrote (macros/incremental/test_scope.sql). #}

select
    '{{ invocation_id }}' as invocation_id,
    {{ 'true' if dwell_rebuild_mode() == 'full' else 'false' }} as is_full_build
