"""The dbt unit tests (models/**/_*unit_tests.yml): each sessionization and staging rule on fixed inputs. Dagster
runs leave them out (they check SQL, not data), so the suite runs every one of them here."""

import json



def test_every_dbt_unit_test_passes(warehouse):
    # The models are built first (from an empty landing directory): a unit test reads its inputs' column types.
    result = warehouse.dbt(["build", "--quiet", "--exclude", "test_type:data"])
    passed = {r.node.unique_id for r in result.result.results if r.node.resource_type == "unit_test" and r.status == "pass"}
    declared = set(json.loads((warehouse.target() / "manifest.json").read_text())["unit_tests"])
    assert declared and passed == declared
