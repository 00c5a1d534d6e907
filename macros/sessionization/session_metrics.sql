{#- Custom per-session metrics (README: "Session metrics"): the session_metrics var, validated. Each metric is a
    mapping with name, aggregation (count, count_distinct or sum), optional event_names (only those events), and
    column (count_distinct: an event column) or property (sum: a numeric key of the event's properties JSON). -#}

{% macro dwell_session_metric_definitions(metrics) -%}
    {%- set aggregations = ['count', 'count_distinct', 'sum'] -%}
    {%- set distinct_columns = ['event_name', 'category', 'page', 'platform', 'project_id', 'workspace_id', 'organization_id'] -%}
    {%- if metrics is string or metrics is mapping or metrics is not iterable -%}
        {{ exceptions.raise_compiler_error("session_metrics must be a list of metric definitions, got: " ~ metrics) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for metric in metrics -%}
        {%- if metric is not mapping -%}
            {{ exceptions.raise_compiler_error("session_metrics entries must be mappings, got: " ~ metric) }}
        {%- endif -%}
        {%- set unknown = metric.keys() | reject('in', ['name', 'aggregation', 'event_names', 'column', 'property']) | list -%}
        {%- if unknown -%}
            {{ exceptions.raise_compiler_error("session_metrics: unknown keys " ~ unknown ~ " in " ~ metric) }}
        {%- endif -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', metric.get('name') | string) or metric.get('name') in names -%}
            {{ exceptions.raise_compiler_error("session_metrics: each name must be a unique lowercase identifier, got: " ~ metric.get('name')) }}
        {%- endif -%}
        {%- do names.append(metric.get('name')) -%}
        {%- if metric.get('aggregation') not in aggregations -%}
            {{ exceptions.raise_compiler_error("session_metrics: aggregation of " ~ metric.get('name') ~ " must be one of " ~ aggregations ~ ", got: " ~ metric.get('aggregation')) }}
        {%- endif -%}
        {%- if metric.get('aggregation') == 'count_distinct' and metric.get('column') not in distinct_columns -%}
            {{ exceptions.raise_compiler_error("session_metrics: count_distinct metric " ~ metric.get('name') ~ " needs a column among " ~ distinct_columns ~ ", got: " ~ metric.get('column')) }}
        {%- endif -%}
        {%- if metric.get('aggregation') == 'sum' and not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', metric.get('property') | string) -%}
            {{ exceptions.raise_compiler_error("session_metrics: sum metric " ~ metric.get('name') ~ " needs a property key (letters, digits, _), got: " ~ metric.get('property')) }}
        {%- endif -%}
        {%- if 'event_names' in metric -%}
            {#- Validates the list; the names themselves are quoted where they reach SQL. -#}
            {%- do dwell_in_list('event_name', metric['event_names']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(metrics) }}
{%- endmacro %}

{#- The aggregate SQL of one validated metric over a session's events. -#}
{% macro dwell_session_metric_value(metric) -%}
    {%- set matches = dwell_in_list('event_name', metric['event_names']) if 'event_names' in metric else 'true' -%}
    {%- if metric['aggregation'] == 'count' -%}
        count(case when {{ matches }} then 1 end)
    {%- elif metric['aggregation'] == 'count_distinct' -%}
        count(distinct case when {{ matches }} then {{ metric['column'] }} end)
    {%- else -%}
        coalesce(sum(case when {{ matches }} then {{ dwell_json_number('properties', metric['property']) }} end), 0)
    {%- endif -%}
{%- endmacro %}

{#- A numeric value of a JSON text's top-level key (validated as a plain identifier); null when the text is not JSON,
    or the key is absent or not a number. -#}
{% macro dwell_json_number(json_text, key) -%}
    {{ return(adapter.dispatch('dwell_json_number', 'dwell')(json_text, key)) }}
{%- endmacro %}

{% macro default__dwell_json_number(json_text, key) -%}
    cast(json_value({{ json_text }}, '$.{{ key }}') as {{ dwell_type_double() }})
{%- endmacro %}

{% macro postgres__dwell_json_number(json_text, key) -%}
    {{ target.schema }}.dwell_json_number({{ json_text }}, '{{ key }}')
{%- endmacro %}

{% macro duckdb__dwell_json_number(json_text, key) -%}
    case when json_valid({{ json_text }}) then try_cast(json_extract_string({{ json_text }}, '$.{{ key }}') as double) end
{%- endmacro %}

{#- get_json_object is null for text that is not JSON, and a cast that fails is null (ANSI mode off, Spark's
    default). -#}
{% macro spark__dwell_json_number(json_text, key) -%}
    cast(get_json_object({{ json_text }}, '$.{{ key }}') as double)
{%- endmacro %}
