from __future__ import annotations

from typing import Any

import pytest

from dais.pipelines.datasets import ParquetFolderResolver
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.validate import Issue, PipelineInvalid, check_graph, validate_graph
from tests.pipelines.engine.conftest import chain


def _graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> PipelineGraph:
    return PipelineGraph.model_validate({"nodes": nodes, "edges": edges})


def _only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, issues
    return issues[0]


def test_valid_pipeline_propagates_schemas_through_every_node(resolver: ParquetFolderResolver) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("sel", "select", {"columns": ["id", "age", "city"]}),
        ("imp", "impute", {"columns": ["age"], "strategy": "mean"}),
        ("out", "sink", {"dataset": "result"}),
    )
    v = validate_graph(g, resolver=resolver)
    assert v.ok, v.issues
    assert v.order == ["src", "sel", "imp", "out"]
    assert v.node_schemas["sel"]["out"] is not None
    assert v.node_schemas["sel"]["out"].names() == ["id", "age", "city"]
    imputed = v.node_schemas["imp"]["out"]
    assert imputed is not None
    assert imputed.get("age") is not None
    assert v.node_schemas["imp"]["transform"] is None


def test_unknown_column_is_reported_against_the_field(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "people"}), ("sel", "select", {"columns": ["id", "nope"]}))
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.part, issue.field, issue.code) == (
        "sel",
        "params",
        "columns.1",
        "unknown_column",
    )
    assert issue.loc == ["nodes", "sel", "params", "columns", "1"]


def test_wrong_column_type_is_reported(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "people"}), ("sc", "scale", {"columns": ["city"]}))
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.field, issue.code) == ("sc", "columns.0", "wrong_column_type")


def test_params_errors_become_field_paths(resolver: ParquetFolderResolver) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("sc", "scale", {"columns": ["age"], "method": "cubic", "extra": 1}),
    )
    issues = validate_graph(g, resolver=resolver).issues
    assert {(i.node_id, i.part, i.field) for i in issues} == {
        ("sc", "params", "method"),
        ("sc", "params", "extra"),
    }


def test_out_of_range_param_is_reported(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "people"}), ("b", "bin", {"columns": ["age"], "n_bins": 0}))
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.field) == ("b", "n_bins")


def test_cycle_is_reported_on_its_nodes() -> None:
    g = _graph(
        [
            {"id": "a", "operator": "select", "params": {"columns": ["x"]}},
            {"id": "b", "operator": "select", "params": {"columns": ["x"]}},
        ],
        [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}],
    )
    issues = validate_graph(g).issues
    assert {(i.node_id, i.code) for i in issues} == {("a", "cycle"), ("b", "cycle")}


def test_unconnected_required_input_is_reported(resolver: ParquetFolderResolver) -> None:
    g = _graph([{"id": "s", "operator": "sort", "params": {"by": ["id"]}}], [])
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.part, issue.field, issue.code) == ("s", "inputs", "in", "unconnected")


def test_port_type_mismatch_is_reported(resolver: ParquetFolderResolver) -> None:
    g = _graph(
        [
            {"id": "src", "operator": "source", "params": {"dataset": "people"}},
            {"id": "sc", "operator": "scale", "params": {"columns": ["age"]}},
            {"id": "f", "operator": "filter", "params": {"expression": "age > 1"}},
        ],
        [
            {"source": "src", "target": "sc"},
            {"source": "sc", "source_port": "transform", "target": "f"},
        ],
    )
    issues = validate_graph(g, resolver=resolver).issues
    assert [(i.node_id, i.code) for i in issues] == [("f", "port_type_mismatch"), ("f", "unconnected")]


def test_two_edges_into_one_input_are_reported(resolver: ParquetFolderResolver) -> None:
    g = _graph(
        [
            {"id": "a", "operator": "source", "params": {"dataset": "people"}},
            {"id": "b", "operator": "source", "params": {"dataset": "people"}},
            {"id": "s", "operator": "sort", "params": {"by": ["id"]}},
        ],
        [{"source": "a", "target": "s"}, {"source": "b", "target": "s"}],
    )
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.field, issue.code) == ("s", "in", "duplicate_input")


def test_unknown_operator_version_and_port(resolver: ParquetFolderResolver) -> None:
    g = _graph(
        [
            {"id": "src", "operator": "source", "params": {"dataset": "people"}},
            {"id": "x", "operator": "teleport", "params": {}},
            {"id": "v", "operator": "sort", "version": 99, "params": {"by": ["id"]}},
            {"id": "s", "operator": "sort", "params": {"by": ["id"]}},
        ],
        [{"source": "src", "target": "v"}, {"source": "src", "source_port": "nope", "target": "s"}],
    )
    codes = {(i.node_id, i.code) for i in validate_graph(g, resolver=resolver).issues}
    assert codes == {
        ("x", "unknown_operator"),
        ("v", "unknown_version"),
        ("src", "unknown_port"),
        ("s", "unconnected"),
    }


def test_unknown_dataset_is_a_source_param_error(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "ghost"}), ("s", "sort", {"by": ["id"]}))
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.field) == ("src", "dataset")


def test_errors_do_not_cascade_downstream(resolver: ParquetFolderResolver) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("sel", "select", {"columns": ["nope"]}),
        ("s", "sort", {"by": ["also_nope"]}),
    )
    assert [i.node_id for i in validate_graph(g, resolver=resolver).issues] == ["sel"]


def test_check_graph_raises_a_422_with_locations(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "people"}), ("sel", "select", {"columns": ["nope"]}))
    with pytest.raises(PipelineInvalid) as info:
        check_graph(g, resolver=resolver)
    problem = info.value.to_problem()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == ["nodes", "sel", "params", "columns", "0"]
    assert "nope" in problem["errors"][0]["msg"]


def test_a_node_with_bad_params_does_not_make_its_downstream_look_unconnected(
    resolver: ParquetFolderResolver,
) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("sc", "scale", {"columns": ["age"], "method": "bogus"}),
        ("out", "sink", {"dataset": "result"}),
    )
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.part, issue.field) == ("sc", "params", "method")


def test_an_unknown_operator_does_not_make_its_downstream_look_unconnected(
    resolver: ParquetFolderResolver,
) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("x", "no_such_operator", {}),
        ("out", "sink", {"dataset": "result"}),
    )
    issue = _only(validate_graph(g, resolver=resolver).issues)
    assert (issue.node_id, issue.code) == ("x", "unknown_operator")
