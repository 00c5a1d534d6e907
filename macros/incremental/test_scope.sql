{#- Data tests scoped to the run (README "Incremental runs"): on an incremental build, a data test of a model that
    declares `meta: {dwell_run_keys: ...}` checks the rows whose key this run wrote, with every other row sharing such a
    key, so that a unique or relationships test still sees the rows it must compare them with. A full build, and any
    invocation that did not build the daily models (`dbt test`, the weekly sweep), checks every row.

    dwell_run_keys names the key column, and where the keys this run wrote are: a model built before the tested one
    (with a condition), or the tested model's own column holding the run that wrote each row:
        meta: {dwell_run_keys: {column: session_id, model: int_sessions_changed}}
        meta: {dwell_run_keys: {column: event_id, model: int_session_events_rebuilt, where: is_changed}}
        meta: {dwell_run_keys: {column: event_id, written_in: decided_in_load_id}}
    dbt's own `where` test config still applies, and-ed with the scope. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do predicates.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set scope = dwell.dwell_run_test_scope() if execute else none -%}
    {%- if scope -%}{%- do predicates.append(scope) -%}{%- endif -%}
    {%- if predicates -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ predicates | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- True when this invocation built the daily models incrementally (staging.stg_this_run): its tests may check only
    what it wrote. Asked when a test compiles, after the models it tests were built. -#}
{% macro dwell_this_run_is_incremental() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set this_run = dwell.dwell_model_relation('stg_this_run') -%}
    {%- if adapter.get_relation(database=this_run.database, schema=this_run.schema, identifier=this_run.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ this_run }} where invocation_id = '{{ invocation_id }}' and not is_full_build
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The test's scope on an incremental build: its tested model's keys that this run wrote; none otherwise. -#}
{% macro dwell_run_test_scope() -%}
    {{ return(dwell.dwell_run_scope(graph.nodes.get(model.get('attached_node') or ''))) }}
{%- endmacro %}

{#- A singular test's scope: the keys of the model called name that this run wrote, as its dwell_run_keys say; none
    when the test must check every row. -#}
{% macro dwell_run_scope_of(name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {{ return(dwell.dwell_run_scope(node)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('dwell_run_scope_of names no model called ' ~ name) }}
{%- endmacro %}

{% macro dwell_run_scope(tested) -%}
    {%- set keys = (tested or {}).get('config', {}).get('meta', {}).get('dwell_run_keys') -%}
    {%- if not keys or not dwell.dwell_this_run_is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- if keys.get('written_in') -%}
        {{ return(dwell.dwell_keys_written_this_run(keys['column'], tested.relation_name,
                                                   keys['written_in'] ~ " = '" ~ invocation_id ~ "'")) }}
    {%- endif -%}
    {{ return(dwell.dwell_keys_written_this_run(keys['column'], dwell.dwell_model_relation(keys['model']),
                                               keys.get('where'))) }}
{%- endmacro %}

{#- column in the keys of `source` (where condition holds). -#}
{% macro dwell_keys_written_this_run(column, source, condition=none) -%}
    {{ column }} in (select {{ column }} from {{ source }}{% if condition %} where {{ condition }}{% endif %})
{%- endmacro %}

{#- A model's relation by name, for a test that reads a model it does not ref. -#}
{% macro dwell_model_relation(name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('dwell_run_keys names no model called ' ~ name) }}
{%- endmacro %}
