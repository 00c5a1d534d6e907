{#- Incremental sessionization (README: "Incremental runs").

    Sessionization only looks backwards: an event's session depends on the events before it in its partition. So
    when events of a partition change (new, late, moved or removed), everything before the start of the uncut
    session (before maximum-length cuts) that precedes a change keeps its sessions; so does everything from the
    first uncut session start after the changes whose preceding event is unchanged too, because it still starts a
    session for the same reason. Only the segments between are rebuilt, each with the event just before it as
    context for the first start reason. -#}

{#- 'full' on a first or --full-refresh build, else 'incremental'. Models call it directly, so unit tests can
    override it like is_incremental. -#}
{% macro dwell_rebuild_mode() -%}
    {%- if not execute or flags.FULL_REFRESH -%}{{ return('full') }}{%- endif -%}
    {%- for name in ['fct_session_events', 'fct_sessions'] -%}
        {%- if dwell_previous_state(name) is none -%}{{ return('full') }}{%- endif -%}
    {%- endfor -%}
    {{ return('incremental') }}
{%- endmacro %}

{#- The mart as the previous run left it, read by the models that rebuild it. Not a ref: the mart depends on them. -#}
{% macro dwell_previous_state(name) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(database=this.database, schema=generate_schema_name('marts', none) | trim, identifier=name)) }}
{%- endmacro %}

{#- Partition columns of `left` equal those of `right`, nulls equal. -#}
{% macro dwell_same_partition(left, right, partition_by) -%}
    {%- for column in partition_by -%}
        {{ left }}.{{ column }} is not distinct from {{ right }}.{{ column }}{% if not loop.last %} and {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- (at, id) is at or after (from_at, from_id) in event order; a null from_at means the partition's beginning. -#}
{% macro dwell_at_or_after(at, id, from_at, from_id) -%}
    ({{ from_at }} is null or {{ at }} > {{ from_at }} or ({{ at }} = {{ from_at }} and {{ id }} >= {{ from_id }}))
{%- endmacro %}

{#- (at, id) lies in the rebuild segment of `scope` (a row of int_session_rebuild_scope): at or after its start,
    before its end; null bounds are the partition's beginning and end. -#}
{% macro dwell_in_rebuild_segment(at, id, scope) -%}
    {{ dwell_at_or_after(at, id, scope ~ '.rebuild_from_at', scope ~ '.rebuild_from_event_id') }}
    and ({{ scope }}.rebuild_until_at is null
        or not {{ dwell_at_or_after(at, id, scope ~ '.rebuild_until_at', scope ~ '.rebuild_until_event_id') }})
{%- endmacro %}
