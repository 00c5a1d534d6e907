"""Personal data in the serving copy (README "Serving copy for BI tools"): the columns that identify a person are
kept, replaced by a salted hash, or emptied, as DWELL_SERVING_PII says; and the quoting of the names and values
the copy writes into SQL."""

import os

from orchestration.serving import ServingError

PII_MODE_VARIABLE = "DWELL_SERVING_PII"
PII_SALT_VARIABLE = "DWELL_SERVING_PII_SALT"
PII_MODES = ("keep", "hash", "drop")
# Columns that identify a person, in any mart that has them; email_domain is kept, it names a company.
PII_COLUMNS = frozenset({"email", "first_name", "last_name"})


def pii_mode() -> str:
    mode = os.environ.get(PII_MODE_VARIABLE, "keep").strip().lower() or "keep"
    if mode not in PII_MODES:
        raise ServingError(f"{PII_MODE_VARIABLE} must be one of {', '.join(PII_MODES)}, got: {mode!r}")
    return mode


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_expression(column: str, data_type: str, pii: str) -> str:
    quoted = identifier(column)
    if column.lower() not in PII_COLUMNS or pii == "keep":
        return quoted
    if pii == "drop":
        # The column stays, typed and empty, so a dashboard built on it keeps working.
        return f"cast(null as {data_type}) as {quoted}"
    # A salted hash keeps distinct counts and joins between marts while hiding the value.
    return f"case when {quoted} is null then null else sha256(getvariable('pii_salt') || {quoted}) end as {quoted}"
