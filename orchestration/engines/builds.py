"""How a Dagster build reaches the engine's data (README "Other engines"). On duckdb the build writes a copy of the
warehouse, which replaces it only when every seed and model succeeded (orchestration/warehouse.py). On postgres and
spark, what is new in the landing directory is copied into the engine first, and the engine keeps what each model
wrote."""

from collections.abc import Iterator
from contextlib import contextmanager

from orchestration import settings, warehouse
from orchestration.engines.landing_copy import copy_landing


@contextmanager
def dbt_build_scope() -> Iterator[None]:
    """Around each dbt build of the Dagster assets."""
    target = settings.dbt_target()
    if target == "duckdb":
        with warehouse.isolated_run():
            yield
    else:
        copy_landing(target)
        yield
