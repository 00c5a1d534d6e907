{#- Pre-hooks of the incremental session marts: before the rebuilt rows are appended, remove the rows they replace.
    They run in the model's transaction, so readers see the old rows or the new ones, never neither. -#}

{% macro dwell_delete_rebuilt_session_events() -%}
    {%- if is_incremental() -%}
        {%- set partition_by = dwell_session_partition(var('session_partition_by')) -%}
        delete from {{ this }}
        where exists (
            select 1
            from {{ ref('int_session_rebuild_scope') }} as scope
            where {{ dwell_same_partition(this, 'scope', partition_by) }}
                and {{ dwell_at_or_after(this ~ '.occurred_at', this ~ '.event_id', 'scope.rebuild_from_at', 'scope.rebuild_from_event_id') }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro dwell_delete_rebuilt_sessions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1
            from {{ ref('int_session_user_scope') }} as scope
            where {{ this }}.user_id = scope.user_id
                and {{ dwell_at_or_after(this ~ '.session_start_at', this ~ '.first_event_id', 'scope.rebuild_from_at', 'scope.rebuild_from_event_id') }}
        )
    {%- endif -%}
{%- endmacro %}
