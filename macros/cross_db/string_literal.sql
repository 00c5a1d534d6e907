{#- dbt's string_literal, quoting the value as data: dbt-core's own puts it between quotes as it is, so a quote in a
    configured name (an event name, a path) would end the literal. dbt_project.yml's dispatch order puts dwell's
    version first, for dbt.string_literal and for dbt's own macros that call it. -#}
{% macro default__string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
