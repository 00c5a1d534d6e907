{#- Pre-hooks of the incremental session marts: before the rebuilt rows are appended, remove the rows they replace.
    They run in the model's transaction, so readers see the old rows or the new ones, never neither. -#}

{#- The rows the rebuilt segments change, and the versions this load's new winning copies replace wherever they
    were (another time or partition, or no longer counted). -#}
{% macro dwell_delete_rebuilt_session_events() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where event_id in (
            select event_id from {{ ref('int_session_events_rebuilt') }} where is_changed
        )
            or event_id in ({{ dwell_recopied_event_ids() }})
    {%- endif -%}
{%- endmacro %}

{#- The event ids whose winning copy this load brought, staged or sampled out: the versions they replace go, wherever
    they were. A copy of a sampled-out user can replace one of a user in the sample, and then nothing is rebuilt in
    its place. -#}
{% macro dwell_recopied_event_ids() -%}
    select event_id
    from {{ ref('stg_landed_events') }}
    where load_id = '{{ invocation_id }}' and load_status in ('staged', 'sampled_out')
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

{#- Pre-hook of an incremental mart with rows per event or per session part: remove every session whose events this
    run changes (int_sessions_changed); the model then appends those sessions again from fct_session_events. -#}
{% macro dwell_delete_changed_sessions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where session_id in (select session_id from {{ ref('int_sessions_changed') }})
    {%- endif -%}
{%- endmacro %}

{#- The fct_session_events rows such a mart reads: on an incremental run only the events of the sessions this run
    changes that still exist; otherwise every event. -#}
{% macro dwell_changed_session_events() -%}
    select * from {{ ref('fct_session_events') }}
    {% if is_incremental() -%}
    where session_id in (select session_id from {{ ref('int_sessions_changed') }} where not is_removed)
    {%- endif %}
{%- endmacro %}
