{#- dbt-spark 1.11's spark__dateadd multiplies the interval without parentheses around it, so dbt.date_spine's step
    `row_number() over (...) - 1` becomes `... - 1 * 7` for weeks (and * 3, * 12 for quarters and years): weekly,
    quarterly and yearly spines come out wrong. This one takes the interval whole; dbt_project.yml's dispatch
    search order puts dwell's macros before dbt's. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart | upper }}, ({{ interval }}), {{ from_date_or_timestamp }})
{%- endmacro %}
