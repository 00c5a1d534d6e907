"""Where dwell's files live. Environment variables are the only configuration of paths (README: "Configuration")."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from orchestration.errors import DwellError

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_DUCKDB_PATH = "data/dwell.duckdb"
DEFAULT_SERVING_DIR = "data/serving"
DEFAULT_SPARK_DIR = "data/spark"
IN_MEMORY_DUCKDB = ":memory:"
# profiles.yml's targets; DWELL_TARGET picks one, for dbt and for the Dagster assets alike.
TARGETS = ("duckdb", "postgres", "spark", "spark_thrift", "spark_http")
# The targets on Spark: a local session, and a Thrift server (a cluster) over binary Thrift or HTTPS. dwell's Python
# side treats them alike: the landing copy, alert deliveries and exports go through DWELL_SPARK_DIR.
SPARK_TARGETS = ("spark", "spark_thrift", "spark_http")


def is_spark_target(target: str) -> bool:
    return target in SPARK_TARGETS


def dbt_target() -> str:
    target = os.environ.get("DWELL_TARGET", "").strip() or TARGETS[0]
    if target not in TARGETS:
        raise DwellError(f"DWELL_TARGET must be one of {', '.join(TARGETS)}, got: {target!r}")
    return target


DBT_VARS_VARIABLE = "DWELL_DBT_VARS"


@cache
def project_var_names() -> frozenset[str]:
    return frozenset(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"])


def dbt_vars() -> dict[str, Any]:
    """The dbt vars of dwell's own dbt runs (the Dagster assets, `dwell run`): DWELL_DBT_VARS, a YAML or JSON mapping,
    as `dbt build --vars` takes it. Unknown names are refused: a misspelt rule would otherwise change nothing."""
    text = os.environ.get(DBT_VARS_VARIABLE, "").strip()
    if not text:
        return {}
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DwellError(f"{DBT_VARS_VARIABLE} is not YAML or JSON: {error}") from error
    if not isinstance(values, dict):
        raise DwellError(f"{DBT_VARS_VARIABLE} must be a mapping of dbt vars, e.g. '{{session_timeout_seconds: 600}}', "
                         f"got: {text!r}")
    unknown = sorted(set(map(str, values)) - project_var_names())
    if unknown:
        raise DwellError(f"{DBT_VARS_VARIABLE} names vars dwell does not have: {', '.join(unknown)} "
                         f"(dwell's vars: {', '.join(sorted(project_var_names()))})")
    return values


def landing_dir() -> Path:
    return Path(os.environ.get("DWELL_LANDING_DIR", DEFAULT_LANDING_DIR)).resolve()


def duckdb_path() -> Path:
    return Path(os.environ.get("DWELL_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)).resolve()


def serving_dir() -> Path:
    return Path(os.environ.get("DWELL_SERVING_DIR", DEFAULT_SERVING_DIR)).resolve()


def spark_dir() -> Path:
    return Path(os.environ.get("DWELL_SPARK_DIR", DEFAULT_SPARK_DIR)).resolve()


def spark_dir_uri() -> str:
    """DWELL_SPARK_DIR as the Spark engine names it: DWELL_SPARK_DIR_URI where a cluster sees the folder under another
    name (a mount on this machine, a URI on the cluster), else the folder's own path."""
    return os.environ.get("DWELL_SPARK_DIR_URI", "").strip().rstrip("/") or str(spark_dir())


def warehouse_identity() -> str:
    """Names the warehouse the current target writes: the records of what it loaded are kept per warehouse."""
    target = dbt_target()
    if target == "duckdb":
        return f"duckdb:{duckdb_path()}"
    if target == "postgres":
        return (f"postgres:{os.environ.get('DWELL_PG_HOST', '127.0.0.1')}:{os.environ.get('DWELL_PG_PORT', '5432')}/"
                f"{os.environ.get('DWELL_PG_DATABASE', 'dwell')}")
    if target == "spark_thrift":
        return (f"spark_thrift:{os.environ.get('DWELL_SPARK_THRIFT_HOST', '127.0.0.1')}:"
                f"{os.environ.get('DWELL_SPARK_THRIFT_PORT', '10001')}")
    if target == "spark_http":
        return (f"spark_http:{os.environ.get('DWELL_SPARK_HTTP_HOST', '127.0.0.1')}:"
                f"{os.environ.get('DWELL_SPARK_HTTP_PORT', '443')}/"
                f"{os.environ.get('DWELL_SPARK_HTTP_CLUSTER', 'dwell')}")
    return f"spark:{spark_dir()}"


def log_dir() -> Path:
    """Where `dwell run` writes its full logs: DWELL_LOG_DIR, else logs/ beside the warehouse file."""
    configured = os.environ.get("DWELL_LOG_DIR", "").strip()
    return Path(configured).resolve() if configured else duckdb_path().parent / "logs"


def pin_paths() -> None:
    """Make the paths absolute in the environment, so dbt resolves them the same from any working directory. DuckDB's
    in-memory database (IN_MEMORY_DUCKDB) is no path."""
    os.environ["DWELL_LANDING_DIR"] = str(landing_dir())
    if os.environ.get("DWELL_DUCKDB_PATH") != IN_MEMORY_DUCKDB:
        os.environ["DWELL_DUCKDB_PATH"] = str(duckdb_path())
    os.environ["DWELL_SPARK_DIR"] = str(spark_dir())


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set these environment variables for the block (for dbt and the processes started in it), then restore them."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
