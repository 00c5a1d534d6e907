"""Run by tests/engines/test_spark.py (helpers.SparkWarehouse) in a process of its own, so the Spark JVM ends with it: a plan of steps, each setting
environment variables of its own, moving landed files into place, copying the landing directory for Spark, running
dbt on the spark target, exporting tables as Parquet, and listing the warehouse's files and where Spark reads the
tables on folders Python writes, for the test to read. One Spark session serves every step.

Usage: python spark_steps.py PLAN_JSON"""

import json
import os
import shutil
import sys
from pathlib import Path

from orchestration.dbt_invoke import run_dbt
from orchestration.engines.landing_copy import copy_landing_to_spark


def export_tables(names: list[str], out_dir: Path) -> None:
    """Each table (or every table of a schema, given as "schema.*") as a Parquet folder out_dir/<schema>.<table>."""
    from pyspark.sql import SparkSession
    from pyspark.sql.types import TimestampType

    spark = SparkSession.builder.getOrCreate()
    for name in names:
        schema, table = name.split(".")
        tables = [t.name for t in spark.catalog.listTables(schema) if not t.isTemporary] if table == "*" else [table]
        for each in tables:
            rows = spark.table(f"{schema}.{each}")
            # Wall-clock UTC (the session's zone), as DuckDB's timestamps without a zone hold it.
            for field in rows.schema.fields:
                if isinstance(field.dataType, TimestampType):
                    rows = rows.withColumn(field.name, rows[field.name].cast("timestamp_ntz"))
            rows.write.mode("overwrite").parquet(str(out_dir / f"{schema}.{each}"))


def list_files(out_file: Path) -> None:
    """Every file of the Spark warehouse, by its path in the warehouse, with its modification time."""
    warehouse = Path(os.environ["DWELL_SPARK_DIR"]) / "warehouse"
    files = {str(path.relative_to(warehouse)): path.stat().st_mtime_ns
             for path in warehouse.rglob("*") if path.is_file()}
    out_file.write_text(json.dumps(files))


def table_locations(tables: list[str], out_file: Path) -> None:
    """Where Spark reads each table from, as its metastore holds it."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    out_file.write_text(json.dumps({
        table: next(row.data_type for row in spark.sql(f"describe table extended {table}").collect()
                    if row.col_name == "Location")
        for table in tables
    }))


def main(plan_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    for step in plan:
        os.environ.update(step.get("environment") or {})
        for source, destination in step.get("move", []):
            Path(destination).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, destination)
        copy_landing_to_spark()
        run_dbt(step["dbt"], step.get("vars"))
        if step.get("export"):
            export_tables(step["export"], Path(step["export_dir"]))
        if step.get("list_files"):
            list_files(Path(step["list_files"]))
        if step.get("locations"):
            table_locations(step["locations"]["tables"], Path(step["locations"]["out_file"]))


if __name__ == "__main__":
    main(sys.argv[1])
