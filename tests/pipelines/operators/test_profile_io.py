from __future__ import annotations

import json

import ibis
import pyarrow as pa

from dais.pipelines.operators.base import ParamError, TableSchema, operators
from dais.pipelines.operators.io import Sink, SinkParams, Source, SourceParams, resolving_schemas
from dais.pipelines.operators.profile import Profile
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


def test_profile_reports_summary_histograms_and_correlations(harness: Harness, people: ibis.Table) -> None:
    out, inferred = harness.run(Profile(), {"bins": 3, "top_values": 2}, {"in": people})
    report = out["report"]
    json.dumps(report)  # plain JSON
    assert inferred == {"report": None}
    assert report["rows"] == 6
    x = next(c for c in report["columns"] if c["name"] == "x")
    assert x["nulls"] == 1
    assert x["min"] == -6.0
    assert sum(x["histogram"]["counts"]) == 5
    g = next(c for c in report["columns"] if c["name"] == "g")
    assert g["top"] == [{"value": "a", "count": 2}, {"value": "b", "count": 2}]
    assert report["correlation"]["columns"] == ["id", "x", "n"]


def test_profile_names_an_unknown_column(people: ibis.Table) -> None:
    assert param_error(Profile(), {"columns": ["nope"]}, {"in": schema_of(people)}) == "columns.0"


def test_source_reads_through_the_context_with_rendered_partitions(harness: Harness) -> None:
    harness.ctx.sources["sales"] = pa.table({"a": [1, 2]})
    harness.ctx.variables = {"ds": "2024-01-01"}
    built = Source().build(
        harness.ctx, SourceParams.model_validate({"dataset": "sales", "partitions": ["ds=${ds}"]}), {}
    )
    assert harness.ctx.execute(built["out"]).num_rows == 2
    assert harness.ctx.lines == ["source sales vNone ['ds=2024-01-01']"]


def test_source_schema_comes_from_the_installed_resolver() -> None:
    params = SourceParams.model_validate({"dataset": "sales", "version": 3})
    assert Source().infer(params, {})["out"] == TableSchema(open=True)
    known = TableSchema.model_validate({"columns": [{"name": "a", "dtype": "int64"}]})
    seen: list[tuple[str, int | None]] = []

    def resolve(name: str, version: int | None) -> TableSchema | None:
        seen.append((name, version))
        return known

    with resolving_schemas(resolve):
        assert Source().infer(params, {})["out"] == known
    assert seen == [("sales", 3)]

    def missing(name: str, version: int | None) -> TableSchema | None:
        raise ParamError("dataset", f"No dataset {name!r}.")

    with resolving_schemas(missing):
        assert param_error(Source(), {"dataset": "nope"}, {}) == "dataset"


def test_sink_has_no_output_and_needs_an_input(people: ibis.Table) -> None:
    assert Sink().infer(SinkParams.model_validate({"dataset": "out"}), {"in": schema_of(people)}) == {}
    assert param_error(Sink(), {"dataset": "out"}, {}) == "in"


def test_every_builtin_operator_is_registered_and_well_formed() -> None:
    registry = operators()
    expected = {
        "source", "sink", "sample", "split", "filter", "select", "rename", "cast", "sort", "deduplicate",
        "join", "union", "aggregate", "sql", "drop_missing", "impute", "clip_outliers", "scale", "normalize",
        "math", "bin", "one_hot", "ordinal", "hashing", "date_parts", "formula", "variance_threshold",
        "correlation_filter", "select_k_best", "profile",
    }  # fmt: skip
    assert expected <= set(registry.names())
    for name in expected:
        op = registry.get(name)
        assert op.id == name
        assert op.title
        assert op.family
        schema = op.Params.model_json_schema()
        assert schema.get("additionalProperties") is False, name
        for field, spec in schema.get("properties", {}).items():
            assert spec.get("description") or "$ref" in spec or "allOf" in spec, (name, field)
