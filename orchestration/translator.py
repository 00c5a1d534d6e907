"""How dbt nodes become Dagster assets: keys are [schema, name], groups are the project's layers."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class DwellTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            return "landing"
        if resource_type in ("seed", "snapshot"):
            return f"{resource_type}s"
        # fqn is [project, folder under models/, ..., name]: the folder is the layer.
        return dbt_resource_props["fqn"][1]


dwell_translator = DwellTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
