"""Random event streams under random rules, through the real dbt build, against tests/reference_sessions.py."""

import random

import pytest

from helpers import SESSION_MODELS, land_events, random_events, random_rules, rules_vars
from reference_sessions import sessionize


@pytest.mark.parametrize("seed", [11, 22, 33, 44, 55, 66])
def test_dbt_sessions_equal_the_reference(warehouse, seed):
    rng = random.Random(seed)
    rules = random_rules(rng)
    events = random_events(rng, rules, users=25)
    land_events(warehouse, events)
    warehouse.build(select=SESSION_MODELS, dbt_vars=rules_vars(rules))
    expected = sessionize(events, rules, newest_us=max(e.occurred_us for e in events))

    sessions = warehouse.query(
        "select session_id, start_reason, end_reason, event_count, epoch_us(session_start_at) as start_us, "
        "epoch_us(session_end_at) as end_us, duration_seconds from marts.fct_sessions"
    ).set_index("session_id")
    membership = warehouse.query("select event_id, session_id from marts.fct_session_events")

    assert sorted(sessions.index) == sorted(s.session_id for s in expected), rules
    assert dict(zip(membership.event_id, membership.session_id)) == {
        event_id: s.session_id for s in expected for event_id in s.event_ids
    }
    for session in expected:
        row = sessions.loc[session.session_id]
        assert (row.start_reason, row.end_reason) == (session.start_reason, session.end_reason), (session, rules)
        assert row.event_count == len(session.event_ids)
        assert (row.start_us, row.end_us) == (session.start_us, session.end_us)
        assert row.duration_seconds == pytest.approx((session.end_us - session.start_us) / 1e6, abs=1e-9)
