{#- Values from configuration reach SQL only through these macros, quoted or validated. -#}

{#- A boolean SQL expression: expression in (values...). An empty list matches nothing. -#}
{% macro dwell_in_list(expression, values) -%}
    {%- if values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error("Expected a list of strings for " ~ expression ~ ", got: " ~ values) }}
    {%- endif -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ expression }} in ({% for value in values %}{{ dbt.string_literal(value) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- A validated non-negative number from configuration, or none when empty/zero-length and allow_disable. -#}
{% macro dwell_seconds_setting(name, value, allow_disable=false) -%}
    {%- if value is none or (value is string and value | trim | lower in ('', 'none', 'null')) -%}
        {%- if allow_disable -%}{{ return(none) }}{%- endif -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a number of seconds, got: " ~ value) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+([.][0-9]+)?|[.][0-9]+', text) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a non-negative number of seconds, got: " ~ value) }}
    {%- endif -%}
    {%- set seconds = text | float -%}
    {%- if seconds == 0 and allow_disable -%}{{ return(none) }}{%- endif -%}
    {%- if seconds <= 0 -%}
        {{ exceptions.raise_compiler_error(name ~ " must be greater than 0, got: " ~ value) }}
    {%- endif -%}
    {{ return(seconds) }}
{%- endmacro %}

{#- A validated share from configuration: a number with 0 <= share <= 1. -#}
{% macro dwell_share_setting(name, value) -%}
    {%- set text = value | string | trim -%}
    {%- if value is boolean or not modules.re.fullmatch('[0-9]+([.][0-9]+)?|[.][0-9]+', text) or text | float > 1 -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a number with 0 <= share <= 1, got: " ~ value) }}
    {%- endif -%}
    {{ return(text | float) }}
{%- endmacro %}

{#- A validated whole number >= 0 from configuration. -#}
{% macro dwell_count_setting(name, value) -%}
    {%- if value is boolean or not modules.re.fullmatch('[0-9]+', value | string | trim) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a whole number >= 0, got: " ~ value) }}
    {%- endif -%}
    {{ return(value | string | trim | int) }}
{%- endmacro %}

{#- Validated column names for partitioning: plain identifiers only. -#}
{% macro dwell_identifier_list(name, values) -%}
    {%- if values is string -%}{%- set values = [values] -%}{%- endif -%}
    {%- if values | length == 0 -%}
        {{ exceptions.raise_compiler_error(name ~ " must name at least one column") }}
    {%- endif -%}
    {%- for value in values -%}
        {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]*', value | string) -%}
            {{ exceptions.raise_compiler_error(name ~ " must list lowercase column names, got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(values | list) }}
{%- endmacro %}

{#- A validated list of strings from configuration (may be empty). -#}
{% macro dwell_string_list_setting(name, values) -%}
    {%- if values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a list of strings, got: " ~ values) }}
    {%- endif -%}
    {%- for value in values -%}
        {%- if value is not string or value | trim == '' -%}
            {{ exceptions.raise_compiler_error(name ~ " must list non-blank strings, got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(values | list) }}
{%- endmacro %}

{#- A validated list of lowercase names (letters, digits, underscores) from configuration; may be empty. -#}
{% macro dwell_name_list(name, values) -%}
    {%- if values is none or values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a list of names, got: " ~ values) }}
    {%- endif -%}
    {%- for value in values -%}
        {%- if value is not string or not modules.re.fullmatch('[a-z0-9_]+', value) -%}
            {{ exceptions.raise_compiler_error(name ~ " must list lowercase names (a-z, 0-9, _), got: " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(values | list) }}
{%- endmacro %}

{#- A validated non-empty list of strictly increasing positive numbers of seconds (bucket edges), as floats. They
    are compared in whole microseconds, so two edges must differ by at least one. -#}
{% macro dwell_seconds_edges_setting(name, values) -%}
    {%- if values is string or values is mapping or values is not iterable or values | length == 0 -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a non-empty list of increasing positive numbers of seconds, got: " ~ values) }}
    {%- endif -%}
    {%- set edges = [] -%}
    {%- for value in values -%}
        {%- set seconds = dwell_seconds_setting(name, value) -%}
        {%- if edges and (seconds * 1000000) | round <= (edges[-1] * 1000000) | round -%}
            {{ exceptions.raise_compiler_error(name ~ " must be strictly increasing (to the microsecond), got: " ~ values) }}
        {%- endif -%}
        {%- do edges.append(seconds) -%}
    {%- endfor -%}
    {{ return(edges) }}
{%- endmacro %}

{#- A validated IANA time zone name as a SQL string literal: a strict pattern first, then the engine's own list. -#}
{% macro dwell_time_zone_setting(name, value) -%}
    {%- if value is not string or not modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*', value) -%}
        {{ exceptions.raise_compiler_error(name ~ " must be a time zone name such as UTC or Europe/Berlin, got: " ~ value) }}
    {%- endif -%}
    {%- if execute and not adapter.dispatch('dwell_time_zone_exists', 'dwell')(value) -%}
        {{ exceptions.raise_compiler_error(name ~ " is not a time zone the database knows, got: " ~ value) }}
    {%- endif -%}
    {{ return(dbt.string_literal(value)) }}
{%- endmacro %}

{#- Engines without a zone list to ask accept the name here and fail on it when the SQL runs. -#}
{% macro default__dwell_time_zone_exists(value) -%}
    {{ return(true) }}
{%- endmacro %}

{% macro postgres__dwell_time_zone_exists(value) -%}
    {%- set found = run_query("select count(*) from pg_timezone_names where name = " ~ dbt.string_literal(value)) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- Spark resolves zone names with java.time: ask the JVM for its zone ids (a set, printed as "[id, id, ...]"). -#}
{% macro spark__dwell_time_zone_exists(value) -%}
    {%- set found = run_query("select array_contains(split(translate(reflect('java.time.ZoneId', 'getAvailableZoneIds'), "
                              ~ "'[]', ''), ', '), " ~ dbt.string_literal(value) ~ ")") -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{% macro duckdb__dwell_time_zone_exists(value) -%}
    {%- set found = run_query("select count(*) from pg_timezone_names() where name = " ~ dbt.string_literal(value)) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
