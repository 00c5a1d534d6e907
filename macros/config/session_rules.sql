{#- The session rules (README "Sessionization rules"), read from the vars and validated in one place: every model that
    sessionizes or judges a session by them takes them from here. A dict of partition_by (column names, user_id among
    them), timeout_us, restart_events, end_events and max_length_us (none: no maximum length). -#}
{% macro dwell_session_rules() -%}
    {%- set max_length = dwell_seconds_setting('session_max_length_seconds', var('session_max_length_seconds'),
                                               allow_disable=true) -%}
    {{ return({
        'partition_by': dwell_session_partition(var('session_partition_by')),
        'timeout_us': dwell_microseconds(dwell_seconds_setting('session_timeout_seconds', var('session_timeout_seconds'))),
        'restart_events': dwell_string_list_setting('session_restart_events', var('session_restart_events')),
        'end_events': dwell_string_list_setting('session_end_events', var('session_end_events')),
        'max_length_us': none if max_length is none else dwell_microseconds(max_length),
    }) }}
{%- endmacro %}

{#- Sessions are always per actor: the partition must include user_id. -#}
{% macro dwell_session_partition(partition_by) -%}
    {%- set columns = dwell_identifier_list('session_partition_by', partition_by) -%}
    {%- if 'user_id' not in columns -%}
        {{ exceptions.raise_compiler_error("session_partition_by must include user_id, got: " ~ columns) }}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
