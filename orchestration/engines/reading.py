"""How Python reads the tables an engine built (the serving copy, the summary, the session alerts; README "Other
engines").

Python reads every target through DuckDB: the duckdb target's warehouse file itself, or a DuckDB copy of the asked
relations, pulled from Postgres over its COPY protocol or exported by Spark as Parquet."""

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.dbt_invoke import run_dbt_in_child
from orchestration.engines.postgres import postgres_connection
from orchestration.errors import DwellError

# Postgres column types as DuckDB reads them from Postgres' CSV; any other type is read as text.
POSTGRES_TYPES = {
    "text": "varchar",
    "character varying": "varchar",
    "bigint": "bigint",
    "integer": "integer",
    "smallint": "smallint",
    "double precision": "double",
    "real": "float",
    "numeric": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "interval": "interval",
}
SPARK_EXPORT_TARGET_PATH = "target/spark-export"


class TargetReadError(DwellError):
    pass


def _schema_and_name(relation: str) -> tuple[str, str]:
    schema, _, name = relation.partition(".")
    if not schema or not name:
        raise TargetReadError(f"relations are asked as schema.name or schema.*, got: {relation!r}")
    return schema, name


@contextmanager
def readable_warehouse(relations: Sequence[str]) -> Iterator[Path]:
    """A DuckDB file holding the relations ("schema.name", or "schema.*" for every table and view of a schema) as the
    current target built them, to open read-only for the block: the duckdb target's warehouse itself, or a copy."""
    target = settings.dbt_target()
    if target == "duckdb":
        yield settings.duckdb_path()
        return
    with tempfile.TemporaryDirectory(prefix="dwell-read-") as scratch:
        # The name the duckdb target's file has, so readers see the same catalog name.
        copy = Path(scratch) / settings.duckdb_path().name
        if target == "postgres":
            _copy_from_postgres(relations, copy, Path(scratch))
        else:
            _copy_from_spark(relations, copy)
        yield copy


def _copy_from_postgres(relations: Sequence[str], copy: Path, scratch: Path) -> None:
    connection = postgres_connection()
    try:
        with connection, connection.cursor() as cursor, duckdb.connect(str(copy)) as duck:
            cursor.execute("set time zone 'UTC'")
            for schema, name in map(_schema_and_name, relations):
                cursor.execute(
                    "select table_name, column_name, data_type from information_schema.columns "
                    "where table_schema = %s and (table_name = %s or %s = '*') order by table_name, ordinal_position",
                    (schema, name, name))
                tables: dict[str, dict[str, str]] = {}
                for table, column, data_type in cursor.fetchall():
                    tables.setdefault(table, {})[column] = POSTGRES_TYPES.get(data_type, "varchar")
                if not tables:
                    raise TargetReadError(f"Postgres has no relation {schema}.{name}; build the warehouse first")
                duck.execute(f'create schema if not exists "{schema}"')
                for table, columns in tables.items():
                    rows = scratch / f"{schema}.{table}.csv"
                    with rows.open("w") as file:
                        cursor.copy_expert(
                            f'copy (select * from "{schema}"."{table}") to stdout with (format csv, header true)', file)
                    # Postgres writes null as an empty field and the empty string as "".
                    duck.execute(
                        f'create table "{schema}"."{table}" as select * from read_csv(?, header = true, '
                        "columns = ?, allow_quoted_nulls = false, auto_detect = false)",
                        [str(rows), columns])
                    rows.unlink()
    finally:
        connection.close()


def _copy_from_spark(relations: Sequence[str], copy: Path) -> None:
    """Spark writes the relations as Parquet folders under DWELL_SPARK_DIR/export/, named as the engine sees that
    folder (settings.spark_dir_uri), and DuckDB copies them from this machine's side."""
    export = f"export/{uuid.uuid4().hex}"
    export_dir = settings.spark_dir() / export
    try:
        run_dbt_in_child([
            "run-operation", "dwell_export_relations", "--target", "spark", "--target-path", SPARK_EXPORT_TARGET_PATH,
            "--args", json.dumps({"relations": list(relations), "out_dir": f"{settings.spark_dir_uri()}/{export}"}),
        ])
        exported = sorted(export_dir.iterdir()) if export_dir.exists() else []
        with duckdb.connect(str(copy)) as duck:
            for schema, name in map(_schema_and_name, relations):
                found = [path for path in exported if path.name == f"{schema}.{name}"
                         or (name == "*" and path.name.startswith(f"{schema}."))]
                if not found:
                    raise TargetReadError(f"Spark has no relation {schema}.{name}; build the warehouse first")
                duck.execute(f'create schema if not exists "{schema}"')
                for path in found:
                    table = path.name.split(".", 1)[1]
                    duck.execute(f'create table "{schema}"."{table}" as select * from read_parquet(?)',
                                 [str(path / "*.parquet")])
    finally:
        shutil.rmtree(export_dir, ignore_errors=True)
