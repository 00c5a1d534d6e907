"""MetricFlow in a process of its own, for tests/semantic, run from a dbt project directory (MetricFlow reads
target/semantic_manifest.json there):

    python mf_process.py cli ARGS...        the `mf` command itself (dbt_metricflow.cli.main:cli, the entry point of
                                            .venv/bin/mf) with ARGS, e.g. query --metrics sessions --csv out.csv
    python mf_process.py batch IN OUT       every query of the JSON list IN through MetricFlow's Python API (the
                                            engine `mf query` calls), one setup for all; results as JSON in OUT

Either way without the CLI's update check: `mf` asks PyPI for a newer dbt-metricflow on every call, and a test
must not depend on the network. A process of its own, because MetricFlow's setup changes dbt's global state and
opens the warehouse for writing, which the test process reads."""

import json
import sys
from datetime import date, datetime

import update_checker

update_checker.UpdateChecker.check = lambda self, *args, **kwargs: None


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def batch(queries_path: str, results_path: str) -> None:
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    config = CLIConfiguration()
    config.setup(configure_file_logging=False)
    results = []
    for query in json.loads(open(queries_path).read()):
        request = MetricFlowQueryRequest.create(
            saved_query_name=query.get("saved_query"),
            metric_names=query.get("metrics"),
            group_by_names=query.get("group_by"),
            where_constraints=query.get("where"),
        )
        table = config.mf.query(mf_request=request).result_df
        results.append({"columns": list(table.column_names),
                        "rows": [[_plain(value) for value in row] for row in table.rows]})
    with open(results_path, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    if mode == "batch":
        batch(*arguments)
    else:
        from dbt_metricflow.cli.main import cli

        sys.exit(cli(arguments, prog_name="mf"))
