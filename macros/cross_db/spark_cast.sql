{#- The project's contracts and seeds name types as Postgres and DuckDB both read them (text, double precision);
    Spark names two of them otherwise. dbt casts through dbt.cast when it checks a contract, so this is where those
    names become Spark's. -#}
{% macro spark__cast(field, type) -%}
    {%- set spark_names = {'text': 'string', 'double precision': 'double'} -%}
    cast({{ field }} as {{ spark_names.get(type | trim | lower, type) }})
{%- endmacro %}
