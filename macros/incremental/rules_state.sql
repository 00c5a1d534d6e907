{#- Rules are applied at read time, so a table built incrementally holds history under the rules of the runs that
    built it. Each build records, per incremental model and seed, the rules it was built with
    (staging.dwell_rules_state, append-only so that every engine can write it); a build whose rules differ from a
    selected model's record rebuilds that model from history instead of mixing two sets of rules in one table
    (README "Changing the rules"). -#}

{#- The vars that shape what an incremental model keeps, and the seeds it reads, that a run cannot reapply to rows
    it does not touch. Vars only read by tables rebuilt on every run (bucket edges, inactivity days, the reporting
    zone) and tuning (duplicate_lookup_list_limit) are not among them. -#}
{% macro dwell_history_rule_vars() -%}
    {{ return([
        'session_timeout_seconds', 'session_restart_events', 'session_end_events', 'session_max_length_seconds',
        'session_partition_by', 'sampling_rate', 'future_skew_tolerance_seconds', 'session_metrics',
        'idle_gap_seconds', 'page_dwell_last_page_cap_seconds', 'tracked_pages', 'activity_categories',
        'activity_timeout_seconds', 'workspace_session_timeout_seconds',
    ]) }}
{%- endmacro %}

{% macro dwell_history_rule_seeds() -%}
    {{ return(['event_catalog', 'engagement_tiers']) }}
{%- endmacro %}

{#- Incremental models whose rows do not depend on the rules: the raw landed rows, and the history of loads. -#}
{% macro dwell_rule_independent_models() -%}
    {{ return(['base_landing_events', 'rpt_load_audit']) }}
{%- endmacro %}

{% macro dwell_rules_state_relation() -%}
    {{ return(api.Relation.create(database=target.get('database'), schema=generate_schema_name('staging', none) | trim,
                                  identifier='dwell_rules_state')) }}
{%- endmacro %}

{#- Node name -> the rules text it was last built with, from the state table (created when missing). -#}
{% macro dwell_recorded_rules() -%}
    {%- set state = dwell_rules_state_relation() -%}
    {%- do dwell_run_statement(dwell_create_rules_state(state)) -%}
    {%- set recorded = {} -%}
    {%- set query -%}
        select node_name, rules from (
            select
                node_name,
                rules,
                row_number() over (partition by node_name order by recorded_at desc, invocation_id desc) as recency
            from {{ state }}
        ) as records
        where recency = 1
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- do recorded.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(recorded) }}
{%- endmacro %}

{% macro dwell_create_rules_state(state) -%}
    {{ return(adapter.dispatch('dwell_create_rules_state', 'dwell')(state)) }}
{%- endmacro %}

{% macro default__dwell_create_rules_state(state) -%}
    create schema if not exists {{ state.schema }};
    create table if not exists {{ state }} (
        node_name {{ dbt.type_string() }},
        rules {{ dbt.type_string() }},
        recorded_at {{ dbt.type_timestamp() }},
        invocation_id {{ dbt.type_string() }}
    )
{%- endmacro %}

{% macro spark__dwell_create_rules_state(state) -%}
    create table if not exists {{ state }} (
        node_name string,
        rules string,
        recorded_at timestamp,
        invocation_id string
    ) using parquet
{%- endmacro %}

{% macro dwell_seed_checksum(name) -%}
    {{ return(graph.nodes['seed.' ~ project_name ~ '.' ~ name].checksum.checksum) }}
{%- endmacro %}

{#- The rules a model built in this run is built with, as one JSON text: the vars as given, and each seed as loaded
    (this run's file when the run loads the seed, else the file the seed's table was last loaded from). -#}
{% macro dwell_current_rules(recorded) -%}
    {%- set rules = {} -%}
    {%- for name in dwell_history_rule_vars() -%}
        {%- do rules.update({name: var(name)}) -%}
    {%- endfor -%}
    {%- for name in dwell_history_rule_seeds() -%}
        {%- set unique_id = 'seed.' ~ project_name ~ '.' ~ name -%}
        {%- set loaded = recorded.get(name) if unique_id not in selected_resources else none -%}
        {%- do rules.update({'seed ' ~ name: fromjson(loaded)['checksum'] if loaded else dwell_seed_checksum(name)}) -%}
    {%- endfor -%}
    {{ return(tojson(rules, sort_keys=true)) }}
{%- endmacro %}

{#- Incremental models of this run that hold rows under the rules. -#}
{% macro dwell_rule_bound_models() -%}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
                and node.config.materialized == 'incremental'
                and node.name not in dwell_rule_independent_models() -%}
            {%- do models.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}

{#- "name: old -> new" for each rule that differs between two rules texts. -#}
{% macro dwell_rule_differences(old, new) -%}
    {%- set old_rules, new_rules = fromjson(old), fromjson(new) -%}
    {%- set differences = [] -%}
    {%- for name, value in new_rules.items() if old_rules.get(name) != value -%}
        {%- do differences.append(name ~ ': ' ~ tojson(old_rules.get(name)) ~ ' -> ' ~ tojson(value)) -%}
    {%- endfor -%}
    {{ return(differences) }}
{%- endmacro %}

{#- on-run-start of the commands that build models: every selected incremental model built under other rules is
    dropped, so that this run builds it from history under the current ones. A model that would be rebuilt from an
    unselected incremental model still under other rules stops the run instead, before anything is written. A model
    with no record (built before dwell recorded rules) is taken to hold the current rules. -#}
{% macro dwell_apply_rule_changes() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') or target.type not in ('duckdb', 'postgres', 'spark') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set recorded = dwell_recorded_rules() -%}
    {%- set current = dwell_current_rules(recorded) -%}
    {%- set stale, stale_unselected, differences = [], [], [] -%}
    {%- for node in dwell_rule_bound_models() if recorded.get(node.name) not in (none, current) -%}
        {%- if node.unique_id in selected_resources -%}
            {%- do stale.append(node) -%}
        {%- else -%}
            {%- do stale_unselected.append(node) -%}
        {%- endif -%}
        {%- for difference in dwell_rule_differences(recorded[node.name], current) if difference not in differences -%}
            {%- do differences.append(difference) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not stale or flags.FULL_REFRESH -%}{{ return('') }}{%- endif -%}
    {%- set stale_names = stale | map(attribute='name') | list -%}
    {%- for node in stale -%}
        {%- set blocking = [] -%}
        {%- for upstream in stale_unselected if upstream.unique_id in dwell_upstream_ids(node) -%}
            {%- do blocking.append(upstream.name) -%}
        {%- endfor -%}
        {%- if blocking -%}
            {{ exceptions.raise_compiler_error(
                "The rules changed (" ~ differences | join('; ') ~ ") and " ~ node.name ~ " would be rebuilt from "
                ~ blocking | join(', ') ~ ", which this run does not select and which still hold the old rules. "
                ~ "Select them too, or run with --full-refresh. Nothing was changed.") }}
        {%- endif -%}
    {%- endfor -%}
    {{ log("dwell: the rules changed since the last build (" ~ differences | join('; ') ~ "): rebuilding "
           ~ stale_names | join(', ') ~ " from history under the new rules.", info=true) }}
    {%- for node in stale -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is not none -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- Unique ids of every node a node reads, directly or not. -#}
{% macro dwell_upstream_ids(node) -%}
    {%- set found, pending = [], node.depends_on.nodes | list -%}
    {%- for unique_id in pending if unique_id not in found -%}
        {%- do found.append(unique_id) -%}
        {%- if unique_id in graph.nodes -%}
            {%- do pending.extend(graph.nodes[unique_id].depends_on.nodes) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- on-run-end: the rules each incremental model and seed this run built successfully now holds. -#}
{% macro dwell_record_rules(results) -%}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'seed') or target.type not in ('duckdb', 'postgres', 'spark') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set recorded = dwell_recorded_rules() -%}
    {%- set current = dwell_current_rules(recorded) -%}
    {%- set bound = dwell_rule_bound_models() | map(attribute='unique_id') | list -%}
    {%- set rows = [] -%}
    {%- for result in results if result.status == 'success' -%}
        {%- set node = result.node -%}
        {%- if node.unique_id in bound -%}
            {%- do rows.append((node.name, current)) -%}
        {%- elif node.resource_type == 'seed' and node.name in dwell_history_rule_seeds() -%}
            {%- do rows.append((node.name, tojson({'checksum': node.checksum.checksum}))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if rows -%}
        {%- set insert -%}
            insert into {{ dwell_rules_state_relation() }} (node_name, rules, recorded_at, invocation_id)
            values
            {%- for name, rules in rows %}
            ({{ dbt.string_literal(name) }}, {{ dbt.string_literal(rules) }}, {{ dbt.current_timestamp() }}, '{{ invocation_id }}'){% if not loop.last %},{% endif %}
            {%- endfor %}
        {%- endset -%}
        {%- do dwell_run_statement(insert) -%}
    {%- endif -%}
{%- endmacro %}
