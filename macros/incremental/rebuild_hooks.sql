{#- Pre-hooks of the incremental session marts: before the rebuilt rows are appended, remove the rows they replace.
    They run in the model's transaction, so readers see the old rows or the new ones, never neither. -#}

{#- The rows the rebuilt segments change, and the versions this load's new winning copies replace wherever they
    were (another time or partition, or no longer counted); every row on a full build. -#}
{% macro dwell_delete_rebuilt_session_events() -%}
    {%- if is_incremental() -%}
        {%- set rebuilt -%}
        {%- if dwell_rebuild_mode() != 'full' -%}
        event_id in (
            select event_id from {{ ref('int_session_events_rebuilt') }} where is_changed
        )
            or event_id in ({{ dwell_recopied_event_ids() }})
        {%- endif -%}
        {%- endset -%}
        {{ dwell_delete_where(this, rebuilt) }}
    {%- endif -%}
{%- endmacro %}

{#- The event ids whose copies this run ranked again or took back (int_event_ids_changed): their previous versions go,
    wherever they were, and the rebuilt segments, which hold their current winning copies, add those again. A copy of
    a sampled-out user can replace one of a user in the sample, and a retraction can take the last copy back: then
    nothing is rebuilt in its place. -#}
{% macro dwell_recopied_event_ids() -%}
    select event_id from {{ ref('int_event_ids_changed') }}
{%- endmacro %}

{% macro dwell_delete_rebuilt_sessions() -%}
    {%- if is_incremental() -%}
        {%- set rebuilt -%}
        exists (
            select 1
            from {{ ref('int_session_user_scope') }} as scope
            where {{ this }}.user_id = scope.user_id
                and {{ dwell_at_or_after(this ~ '.session_start_at', this ~ '.first_event_id', 'scope.rebuild_from_at', 'scope.rebuild_from_event_id') }}
        )
        {%- endset -%}
        {{ dwell_delete_where(this, rebuilt) }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental mart with rows per event or per session part: remove every session whose events this
    run changes (int_sessions_changed), every row on a full build; the model then appends those sessions again from
    dwell_changed_session_events. -#}
{% macro dwell_delete_changed_sessions() -%}
    {%- if is_incremental() -%}
        {%- set changed -%}
        {%- if dwell_rebuild_mode() != 'full' -%}
        session_id in (select session_id from {{ ref('int_sessions_changed') }})
        {%- endif -%}
        {%- endset -%}
        {{ dwell_delete_where(this, changed) }}
    {%- endif -%}
{%- endmacro %}

{#- The columns of fct_session_events, in its order, from a relation with the columns of int_session_events_rebuilt. -#}
{% macro dwell_session_event_columns() -%}
        event_id,
        session_id,
        user_id,
        organization_id,
        workspace_id,
        project_id,
        event_name,
        category,
        platform,
        page,
        occurred_at,
        event_number_in_session,
        seconds_since_previous_event,
        seconds_since_session_start,
        session_start_at,
        session_start_reason,
        is_last_event_in_session,
        cast(session_start_at as date) as session_date
{%- endmacro %}

{#- The events this run sessionized, with the columns of fct_session_events and int_session_events_rebuilt's
    rebuild_segment, next_session_start_reason, previous_session_id and is_changed: on an incremental run the rows of
    int_session_events_rebuilt; on a full build, which sessionizes straight into fct_session_events, every event
    there. -#}
{% macro dwell_rebuilt_session_events() -%}
    -- depends_on: {{ ref('fct_session_events') }}, {{ ref('int_session_events_rebuilt') }}
    {%- set full_build = dwell_rebuild_mode() == 'full' %}
    select
        {{ dwell_session_event_columns() }},
        {% if full_build -%}
        1 as rebuild_segment,
        cast(null as {{ dbt.type_string() }}) as next_session_start_reason,
        cast(null as {{ dbt.type_string() }}) as previous_session_id,
        true as is_changed
    from {{ ref('fct_session_events') }}
        {%- else -%}
        rebuild_segment,
        next_session_start_reason,
        previous_session_id,
        is_changed
    from {{ ref('int_session_events_rebuilt') }}
        {%- endif %}
{%- endmacro %}

{#- The fct_session_events rows such a mart reads: on an incremental run only the events of the sessions this run
    changes that still exist; otherwise every event. An incremental run reads them from int_session_events_rebuilt,
    not from the mart: a rebuilt segment holds whole sessions, so it has every event of a changed session as the mart
    now stores it, and the mart's history is never scanned. -#}
{% macro dwell_changed_session_events() -%}
    -- depends_on: {{ ref('fct_session_events') }}, {{ ref('int_session_events_rebuilt') }}
    {% if is_incremental() and dwell_rebuild_mode() != 'full' -%}
    select
        {{ dwell_session_event_columns() }}
    from {{ ref('int_session_events_rebuilt') }}
    where session_id in (select session_id from {{ ref('int_sessions_changed') }} where not is_removed)
    {%- else -%}
    select * from {{ ref('fct_session_events') }}
    {%- endif %}
{%- endmacro %}

{#- A row at or after its user's rebuild point (scope: a row of int_session_user_scope) by column, a timestamp; with
    by_date, a UTC date on or after the rebuild point's date. Every row a run changes, renumbers or concludes in
    fct_sessions, int_activity_quarter_hours, int_category_sessions and int_session_idle_gaps is. -#}
{% macro dwell_rebuilt_user_row(column, scope, by_date=false) -%}
    ({{ scope }}.rebuild_from_at is null
        or {{ column }} >= {% if by_date %}cast({{ scope }}.rebuild_from_at as date){% else %}{{ scope }}.rebuild_from_at{% endif %})
{%- endmacro %}

{#- Pre-hook of an incremental mart with rows per user and time (or UTC date): remove the rows of each user of
    int_session_user_scope at or after the user's rebuild point by column; every row on a full build. -#}
{% macro dwell_delete_rebuilt_user_rows(column, by_date=false) -%}
    {%- if is_incremental() -%}
        {%- set rebuilt -%}
        {%- if dwell_rebuild_mode() != 'full' -%}
        exists (
            select 1
            from {{ ref('int_session_user_scope') }} as user_scope
            where {{ this }}.user_id = user_scope.user_id
                and {{ dwell_rebuilt_user_row(this ~ '.' ~ column, 'user_scope', by_date) }}
        )
        {%- endif -%}
        {%- endset -%}
        {{ dwell_delete_where(this, rebuilt) }}
    {%- endif -%}
{%- endmacro %}

{#- The rows of relation (with user_id) such a mart rebuilds from: on an incremental run those of the users of
    int_session_user_scope at or after each user's rebuild point by column (column none: all their rows);
    otherwise every row. -#}
{% macro dwell_rebuilt_user_rows(relation, column=none, by_date=false) -%}
    select {{ relation }}.*
    from {{ relation }}
    {%- if is_incremental() and dwell_rebuild_mode() != 'full' %}
    inner join {{ ref('int_session_user_scope') }} as user_scope
        on {{ relation }}.user_id = user_scope.user_id
    {%- if column is not none %}
    where {{ dwell_rebuilt_user_row(relation ~ '.' ~ column, 'user_scope', by_date) }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of an incremental table of reporting periods per user (grain, period_start, user_id, time_zone): remove
    the periods this run rebuilds (dwell_rebuilt_periods); every row on a full build or after a change of
    reporting_time_zone. -#}
{% macro dwell_delete_rebuilt_periods() -%}
    {%- if is_incremental() -%}
        {%- set zone = dwell_reporting_time_zone() -%}
        {%- set rebuilt -%}
        {%- if not dwell_rebuilds_every_period(zone) -%}
        exists (
            select 1
            from ({{ dwell_rebuilt_periods(zone) | indent(12) }}) as scope
            where {{ this }}.user_id = scope.user_id and (
                {{ this }}.grain = 'lifetime'
                {%- for grain in ['day', 'week', 'month'] %}
                or ({{ this }}.grain = '{{ grain }}'
                    and (scope.{{ grain }}_from is null or {{ this }}.period_start >= scope.{{ grain }}_from))
                {%- endfor %}
            )
        )
        {%- endif -%}
        {%- endset -%}
        {{ dwell_delete_where(this, rebuilt) }}
    {%- endif -%}
{%- endmacro %}

{#- An incremental table of reporting periods rebuilds every row on a full build, and when its rows were written in
    another reporting_time_zone (zone: a SQL literal). -#}
{% macro dwell_rebuilds_every_period(zone) -%}
    {%- if not is_incremental() or dwell_rebuild_mode() == 'full' -%}{{ return(true) }}{%- endif -%}
    {%- set other_zones = run_query('select count(*) from ' ~ this ~ ' where time_zone <> ' ~ zone) -%}
    {{ return(other_zones.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The (user_id, event_date) pairs whose staged events this run may change: those of every row stg_landed_events
    decided in it (new copies, and earlier copies of their ids ranked again, whatever their status now), by UTC
    date. A copy that lost its place to an earlier-received one keeps its row, as a duplicate, so its pair is here. -#}
{% macro dwell_touched_event_days() -%}
    select distinct user_id, cast(occurred_at as date) as event_date
    from {{ ref('stg_landed_events') }}
    where decided_in_load_id = '{{ invocation_id }}' and user_id is not null and occurred_at is not null
{%- endmacro %}

{#- A table of user event days rebuilds every row on a full build, and when a retraction of this run took rows back:
    their pairs left stg_landed_events with them (retractions are rare, and this table is small). -#}
{% macro dwell_rebuilds_every_event_day() -%}
    {{ return(not is_incremental() or dwell_rebuild_mode() == 'full' or dwell_this_run_retracts()) }}
{%- endmacro %}

{#- Pre-hook of int_user_event_days: remove the touched pairs' rows (dwell_touched_event_days); every row when it
    rebuilds every day. -#}
{% macro dwell_delete_touched_event_days() -%}
    {%- if is_incremental() -%}
        {%- set touched -%}
        {%- if not dwell_rebuilds_every_event_day() -%}
        exists (
            select 1
            from ({{ dwell_touched_event_days() }}) as touched
            where {{ this }}.user_id = touched.user_id and {{ this }}.event_date = touched.event_date
        )
        {%- endif -%}
        {%- endset -%}
        {{ dwell_delete_where(this, touched) }}
    {%- endif -%}
{%- endmacro %}
