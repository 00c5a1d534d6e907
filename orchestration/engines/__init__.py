"""What differs between dbt targets outside dbt (README "Other engines"): the landing directory copied for the
engines that cannot read it themselves (landing_copy.py), how a Dagster build reaches the engine's data
(builds.py), how Python reads the tables the engine built (reading.py), the Postgres connection (postgres.py) and
the SQL functions dwell registers on DuckDB (duckdb_functions.py, profiles.yml's plugin)."""
