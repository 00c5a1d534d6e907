{#- The half-open partition window [window_start, window_end) a partitioned run passes as vars
    (README: "Partitions and windows"). Both or neither must be set. Returns none or a (start, end) pair of
    SQL timestamp literals. -#}
{% macro dwell_partition_window() -%}
    {%- set start = var('window_start', none) -%}
    {%- set end = var('window_end', none) -%}
    {%- if start is none and end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error("window_start and window_end must be set together, got: " ~ start ~ ", " ~ end) }}
    {%- endif -%}
    {%- set pattern = '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?)?' -%}
    {%- for value in [start, end] -%}
        {%- if not modules.re.fullmatch(pattern, value | string) -%}
            {{ exceptions.raise_compiler_error("window_start and window_end must be UTC dates or timestamps (YYYY-MM-DD[THH:MM[:SS[.ffffff]]]), got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if (start | string) >= (end | string) -%}
        {{ exceptions.raise_compiler_error("window_start must be before window_end, got: " ~ start ~ ", " ~ end) }}
    {%- endif -%}
    {{ return(("cast('" ~ start ~ "' as " ~ dbt.type_timestamp() ~ ")", "cast('" ~ end ~ "' as " ~ dbt.type_timestamp() ~ ")")) }}
{%- endmacro %}

{#- A boolean SQL expression: column falls in the window. -#}
{% macro dwell_in_window(column, window) -%}
    {{ column }} >= {{ window[0] }} and {{ column }} < {{ window[1] }}
{%- endmacro %}
