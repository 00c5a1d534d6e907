{#- The half-open partition window [DWELL_WINDOW_START, DWELL_WINDOW_END) of a partitioned run, from the environment
    (README: "Partitions and windows"). Both or neither must be set. Returns none or a (start, end) pair of SQL
    timestamp literals. Read only when executing: an environment variable read while parsing is recorded in the partial
    parse, and a new window would then make dbt reparse the models that use it on every run. -#}
{% macro dwell_partition_window() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if var('window_start', none) is not none or var('window_end', none) is not none -%}
        {{ exceptions.raise_compiler_error("The vars window_start and window_end are no longer read: set the environment variables DWELL_WINDOW_START and DWELL_WINDOW_END") }}
    {%- endif -%}
    {%- set start = env_var('DWELL_WINDOW_START', '') or none -%}
    {%- set end = env_var('DWELL_WINDOW_END', '') or none -%}
    {%- if start is none and end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error("DWELL_WINDOW_START and DWELL_WINDOW_END must be set together, got: " ~ start ~ ", " ~ end) }}
    {%- endif -%}
    {%- set pattern = '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?' -%}
    {%- for value in [start, end] -%}
        {%- if not modules.re.fullmatch(pattern, value | string) -%}
            {{ exceptions.raise_compiler_error("DWELL_WINDOW_START and DWELL_WINDOW_END must be UTC dates or timestamps (YYYY-MM-DD[THH:MM[:SS[.ffffff]]]), got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if (start | string) >= (end | string) -%}
        {{ exceptions.raise_compiler_error("DWELL_WINDOW_START must be before DWELL_WINDOW_END, got: " ~ start ~ ", " ~ end) }}
    {%- endif -%}
    {{ return(("cast('" ~ start ~ "' as " ~ dbt.type_timestamp() ~ ")", "cast('" ~ end ~ "' as " ~ dbt.type_timestamp() ~ ")")) }}
{%- endmacro %}

{#- A boolean SQL expression: column falls in the window. -#}
{% macro dwell_in_window(column, window) -%}
    {{ column }} >= {{ window[0] }} and {{ column }} < {{ window[1] }}
{%- endmacro %}
