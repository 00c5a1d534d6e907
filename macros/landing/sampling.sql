{#- Per-user sampling (README "Sampling"): a user is in the sample when the first 8 hex digits of md5(user_id), an
    integer h in [0, 2^32), satisfy h / 2^32 < sampling_rate. Every engine and every run keeps the same users, and a
    larger rate keeps a superset of a smaller rate's users. -#}

{#- The validated sampling_rate var, as a float with 0 < rate <= 1. -#}
{% macro dwell_sampling_rate() -%}
    {%- set value = var('sampling_rate') -%}
    {%- set text = value | string | trim -%}
    {%- if value is boolean or not modules.re.fullmatch('([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?', text) -%}
        {{ exceptions.raise_compiler_error("sampling_rate must be a number with 0 < rate <= 1, got: " ~ value) }}
    {%- endif -%}
    {%- set rate = text | float -%}
    {%- if rate <= 0 or rate > 1 -%}
        {{ exceptions.raise_compiler_error("sampling_rate must be a number with 0 < rate <= 1, got: " ~ value) }}
    {%- endif -%}
    {{ return(rate) }}
{%- endmacro %}

{#- A boolean SQL expression, true when the user is in the sample; none at rate 1, where every user is and the SQL
    must cost nothing. The rate becomes a whole-number threshold on h (h < rate * 2^32, and h is whole), so the
    comparison is exact on every engine. -#}
{% macro dwell_user_in_sample(user_id) -%}
    {%- set rate = dwell_sampling_rate() -%}
    {%- if rate == 1 -%}{{ return(none) }}{%- endif -%}
    {%- set threshold = (rate * 4294967296) | round(0, 'ceil') | int -%}
    {{ return(dwell_user_hash(user_id) ~ ' < ' ~ threshold) }}
{%- endmacro %}

{#- h: the first 8 hex digits of md5(user_id) as an integer in [0, 2^32). -#}
{% macro dwell_user_hash(user_id) -%}
    {{ return(adapter.dispatch('dwell_user_hash', 'dwell')(user_id)) }}
{%- endmacro %}

{#- Engines without a hex-to-integer cast: the digits one by one. -#}
{% macro default__dwell_user_hash(user_id) -%}
    ({% for digit in range(8) -%}
        (cast({{ dbt.position("substring(" ~ dbt.hash(user_id) ~ ", " ~ (digit + 1) ~ ", 1)", "'0123456789abcdef'") }} as bigint) - 1)
        * {{ 16 ** (7 - digit) }}{% if not loop.last %} + {% endif %}
    {%- endfor %})
{%- endmacro %}

{#- One md5 and one cast: several times faster than the digits one by one. -#}
{% macro duckdb__dwell_user_hash(user_id) -%}
    cast('0x' || left(md5({{ user_id }}), 8) as ubigint)
{%- endmacro %}
