"""`dwell serve`'s tests share one sample built once per test session: a warehouse from the bundled sample generator
(36 users in 3 organizations, 8 days), published as serving copy A, and copy B, the same with a day of sessions
removed and one user renamed, for the hot-swap tests. Tokens: an admin's and one per organization."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from orchestration.dbt_invoke import run_dbt
from orchestration.sample_data import generate_sample
from orchestration.serving import publish
from orchestration.web.app import create_app
from orchestration.web.tokens import TokenStore

# Every test module of tests/web marks itself with this pytest-xdist group: they share the sample, built once per
# worker, so they run on one.
WEB_GROUP = "web"


@dataclass
class Sample:
    root: Path
    landing: Path
    warehouse: Path
    target: Path
    serving_a: Path
    serving_b: Path
    tokens_file: Path
    admin: str
    org_tokens: dict[str, str]

    @property
    def organizations(self) -> list[str]:
        return sorted(self.org_tokens)

    def environment(self) -> dict[str, str]:
        return {"DWELL_LANDING_DIR": str(self.landing), "DWELL_DUCKDB_PATH": str(self.warehouse),
                "DWELL_SERVING_DIR": str(self.serving_a), "DWELL_TOKENS_FILE": str(self.tokens_file)}

    def marts(self, sql: str, parameters=None, copy: str = "a") -> list[dict]:
        """Rows of the serving copy's marts, straight from DuckDB (what the API must agree with)."""
        path = (self.serving_a if copy == "a" else self.serving_b) / "dwell.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            relation = con.execute(sql, parameters or [])
            columns = [column[0] for column in relation.description]
            return [dict(zip(columns, row)) for row in relation.fetchall()]


def _build(root: Path) -> Sample:
    landing, warehouse, target = root / "landing", root / "warehouse" / "web.duckdb", root / "target"
    landing.mkdir(parents=True)
    warehouse.parent.mkdir()
    serving_a, serving_b = root / "serving", root / "serving-b"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DWELL_LANDING_DIR", str(landing))
        patch.setenv("DWELL_DUCKDB_PATH", str(warehouse))
        generate_sample(landing, users=36, days=8, seed=39)
        run_dbt(["build", "--quiet", "--no-write-json", "--target-path", str(target), "--exclude", "test_type:unit",
                 "test_type:data"])
        publish(warehouse, serving_a)
    # Copy B: copy A with the newest day's sessions gone and a user renamed. The tests put it in place with a rename,
    # as publish() does.
    serving_b.mkdir()
    shutil.copy2(serving_a / "dwell.duckdb", serving_b / "dwell.duckdb")
    with duckdb.connect(str(serving_b / "dwell.duckdb")) as con:
        newest = con.execute("select max(session_date) from marts.fct_sessions").fetchone()[0]
        for table in ["fct_sessions", "fct_session_events", "fct_micro_sessions", "fct_workspace_sessions"]:
            con.execute(f"delete from marts.{table} where session_date = ?", [newest])
        con.execute("delete from marts.fct_user_activity_daily where activity_date = ?", [newest])
        con.execute("delete from marts.rpt_daily_sessions where day = ?", [newest])
        con.execute("update marts.dim_users set first_name = 'Renamed' where user_id = "
                    "(select min(user_id) from marts.dim_users)")
    tokens_file = root / "secrets" / "tokens.json"
    store = TokenStore(tokens_file)
    with duckdb.connect(str(serving_a / "dwell.duckdb"), read_only=True) as con:
        organizations = [row[0] for row in con.execute(
            "select distinct organization_id from marts.dim_users where organization_id is not null order by 1"
        ).fetchall()]
    assert len(organizations) >= 3, organizations
    admin = store.create("admin", None, True)
    org_tokens = {organization: store.create(f"org-{index}", organization, False)
                  for index, organization in enumerate(organizations)}
    return Sample(root, landing, warehouse, target, serving_a, serving_b, tokens_file, admin, org_tokens)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return _build(tmp_path_factory.mktemp("web-sample"))


@pytest.fixture(scope="session")
def client(sample: Sample) -> TestClient:
    with TestClient(create_app(sample.serving_a, sample.tokens_file), raise_server_exceptions=False) as test_client:
        yield test_client


def admin_headers(sample: Sample) -> dict[str, str]:
    return {"Session-Token": sample.admin}


def org_headers(sample: Sample, organization: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {sample.org_tokens[organization]}"}

