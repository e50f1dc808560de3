from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dais.pipelines.cache import RunCache
from dais.pipelines.datasets import ParquetFolderResolver
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.runner import FolderSinkWriter, NodeEvent, NodeStatus, run_pipeline
from dais.pipelines.validate import PipelineInvalid
from tests.pipelines.engine.conftest import ENGINES, chain, read_version

PREP = (
    ("src", "source", {"dataset": "people"}),
    ("imp", "impute", {"columns": ["age"], "strategy": "mean"}),
    ("sc", "scale", {"columns": ["age", "income"], "method": "standard"}),
    ("oh", "one_hot", {"columns": ["city"]}),
    ("out", "sink", {"dataset": "prepared"}),
)


@pytest.mark.parametrize("engine", ENGINES)
def test_full_run_writes_the_sink_and_reports_every_node(
    engine: str, resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path
) -> None:
    events: list[NodeEvent] = []
    result = run_pipeline(
        chain(*PREP), engine=engine, resolver=resolver, sink_writer=writer, on_node_event=events.append
    )
    assert result.status == "succeeded", {n: r.error for n, r in result.nodes.items()}
    assert [n.status for n in result.nodes.values()] == [NodeStatus.succeeded] * 5
    written = read_version(data_root, "prepared", 1)
    assert written.num_rows == 200
    assert {"city_paris", "city_lyon", "city_nice"} <= set(written.column_names)
    assert "city" not in written.column_names
    ages = written.column("age").to_pylist()
    assert None not in ages
    assert abs(sum(ages) / len(ages)) < 1e-9
    assert result.nodes["src"].rows_out == {"out": 200}
    assert result.nodes["oh"].rows_in == 200
    assert result.nodes["oh"].rows_out == {"out": 200}
    assert result.nodes["out"].rows_in == 200
    sample = result.nodes["oh"].samples["out"]
    assert len(sample) == 100
    assert set(sample[0]) == set(written.column_names)
    assert result.nodes["imp"].outputs["transform"]["operator"] == "impute"
    assert set(result.transforms) == {"imp", "sc", "oh"}
    assert result.sinks["out"]["rows"] == 200
    by_node: dict[str, list[str]] = {}
    for e in events:
        by_node.setdefault(e.node_id, []).append(e.status)
    assert by_node["sc"] == ["pending", "running", "succeeded"]
    assert all(isinstance(e.duration_s, float) for e in events if e.status == "succeeded")


@pytest.mark.parametrize("engine", ENGINES)
def test_debug_run_samples_every_source_and_writes_nothing(
    engine: str, resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path
) -> None:
    result = run_pipeline(
        chain(*PREP), engine=engine, resolver=resolver, sink_writer=writer, mode="debug", sample_rows=30
    )
    assert result.status == "succeeded"
    assert result.nodes["src"].rows_out == {"out": 30}
    assert len(result.nodes["oh"].samples["out"]) == 30
    assert result.nodes["out"].log[-1].startswith("Debug run")
    assert not (data_root / "prepared").exists()


def test_random_debug_sample_is_seeded(resolver: ParquetFolderResolver) -> None:
    g = chain(("src", "source", {"dataset": "people"}), ("s", "sort", {"by": ["id"]}))

    def ids(seed: int) -> list[int]:
        r = run_pipeline(
            g, resolver=resolver, mode="debug", sample_rows=20, sample_method="random", seed=seed
        )
        return [row["id"] for row in r.nodes["s"].samples["out"]]

    first = ids(1)
    assert len(first) == 20
    assert first != list(range(20))
    assert ids(1) == first


def _failing_graph() -> PipelineGraph:
    return PipelineGraph.model_validate(
        {
            "nodes": [
                {"id": "src", "operator": "source", "params": {"dataset": "people"}},
                {"id": "bad", "operator": "cast", "params": {"types": {"city": "int64"}, "safe": False}},
                {"id": "after", "operator": "sort", "params": {"by": ["id"]}},
                {"id": "out", "operator": "sink", "params": {"dataset": "never"}},
                {"id": "ok", "operator": "select", "params": {"columns": ["id"]}},
                {"id": "ok_out", "operator": "sink", "params": {"dataset": "ids"}},
            ],
            "edges": [
                {"source": "src", "target": "bad"},
                {"source": "bad", "target": "after"},
                {"source": "after", "target": "out"},
                {"source": "src", "target": "ok"},
                {"source": "ok", "target": "ok_out"},
            ],
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_failing_node_skips_downstream_and_leaves_inputs_alone(
    engine: str, resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path
) -> None:
    before = pq.read_table(str(data_root / "people" / "v1"))
    result = run_pipeline(_failing_graph(), engine=engine, resolver=resolver, sink_writer=writer)
    assert result.status == "failed"
    bad = result.nodes["bad"]
    assert bad.status == NodeStatus.failed
    assert bad.error
    assert bad.log[-1].startswith("Failed:")
    assert result.nodes["after"].status == NodeStatus.skipped
    assert result.nodes["out"].status == NodeStatus.skipped
    assert result.nodes["ok_out"].status == NodeStatus.succeeded
    assert not (data_root / "never").exists()
    assert read_version(data_root, "ids", 1).num_rows == 200
    assert pq.read_table(str(data_root / "people" / "v1")).equals(before)


def test_rerun_from_a_node_reuses_cached_upstream_outputs(
    resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path, tmp_path: Path
) -> None:
    cache = RunCache(tmp_path / "cache")
    first = run_pipeline(chain(*PREP), resolver=resolver, sink_writer=writer, cache=cache)
    assert first.status == "succeeded"
    again = run_pipeline(chain(*PREP), resolver=resolver, sink_writer=writer, cache=cache, from_node="oh")
    statuses = {n: r.status for n, r in again.nodes.items()}
    assert statuses == {
        "src": NodeStatus.cached,
        "imp": NodeStatus.cached,
        "sc": NodeStatus.cached,
        "oh": NodeStatus.succeeded,
        "out": NodeStatus.succeeded,
    }
    assert again.nodes["sc"].samples == first.nodes["sc"].samples
    assert again.nodes["sc"].outputs == first.nodes["sc"].outputs
    assert again.nodes["sc"].log == [
        *first.nodes["sc"].log,
        "Reused the cached output of an identical earlier run.",
    ]
    assert read_version(data_root, "prepared", 2).equals(read_version(data_root, "prepared", 1))


def test_rerun_after_a_failure_runs_the_fixed_node(
    resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path, tmp_path: Path
) -> None:
    cache = RunCache(tmp_path / "cache")
    graph = _failing_graph()
    assert run_pipeline(graph, resolver=resolver, sink_writer=writer, cache=cache).status == "failed"
    bad = graph.node("bad")
    assert bad is not None
    bad.params = {"types": {"id": "float64"}}
    result = run_pipeline(graph, resolver=resolver, sink_writer=writer, cache=cache, from_node="bad")
    assert result.status == "succeeded"
    assert result.nodes["src"].status == NodeStatus.cached
    assert result.nodes["ok"].status == NodeStatus.skipped  # not downstream of "bad"
    assert read_version(data_root, "never", 1).schema.field("id").type == "double"


def test_changed_params_or_data_invalidate_the_cache(
    resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path, tmp_path: Path
) -> None:
    cache = RunCache(tmp_path / "cache")
    run_pipeline(chain(*PREP), resolver=resolver, sink_writer=writer, cache=cache)
    steps = list(PREP)
    steps[2] = ("sc", "scale", {"columns": ["age", "income"], "method": "minmax"})
    result = run_pipeline(chain(*steps), resolver=resolver, sink_writer=writer, cache=cache)
    assert [result.nodes[n].status for n in ("src", "imp", "sc", "oh")] == [
        NodeStatus.cached,
        NodeStatus.cached,
        NodeStatus.succeeded,
        NodeStatus.succeeded,
    ]
    from tests.pipelines.engine.conftest import people, write_dataset

    write_dataset(data_root, "people", people(50), version=2)
    result = run_pipeline(chain(*PREP), resolver=resolver, sink_writer=writer, cache=cache)
    assert result.nodes["src"].status == NodeStatus.succeeded
    assert result.nodes["src"].rows_out == {"out": 50}


def test_variables_render_and_enter_the_cache_key(resolver: ParquetFolderResolver, tmp_path: Path) -> None:
    g = PipelineGraph.model_validate(
        {
            "nodes": [
                {"id": "src", "operator": "source", "params": {"dataset": "people"}},
                {"id": "f", "operator": "filter", "params": {"expression": "id < ${limit}"}},
            ],
            "edges": [{"source": "src", "target": "f"}],
            "variables": [{"name": "limit", "default": "10"}],
        }
    )
    cache = RunCache(tmp_path / "cache")
    assert run_pipeline(g, resolver=resolver, cache=cache).nodes["f"].rows_out == {"out": 10}
    second = run_pipeline(g, resolver=resolver, cache=cache, variables={"limit": "25"})
    assert second.nodes["src"].status == NodeStatus.cached
    assert second.nodes["f"].status == NodeStatus.succeeded
    assert second.nodes["f"].rows_out == {"out": 25}


def test_expensive_outputs_are_materialised_once(
    resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path, tmp_path: Path
) -> None:
    g = chain(
        ("src", "source", {"dataset": "people"}),
        ("agg", "aggregate", {"group_by": ["city"], "aggregations": [{"function": "count"}]}),
        ("out", "sink", {"dataset": "counts"}),
    )
    cache = RunCache(tmp_path / "cache")
    result = run_pipeline(g, resolver=resolver, sink_writer=writer, cache=cache)
    assert result.status == "succeeded", result.nodes["agg"].error
    assert result.nodes["agg"].rows_out == {"out": 4}
    assert list((tmp_path / "cache" / "tables").iterdir())  # the aggregate's output, kept as parquet
    assert read_version(data_root, "counts", 1).num_rows == 4


def test_invalid_pipeline_never_starts(resolver: ParquetFolderResolver) -> None:
    events: list[NodeEvent] = []
    g = chain(("src", "source", {"dataset": "people"}), ("sel", "select", {"columns": ["nope"]}))
    with pytest.raises(PipelineInvalid):
        run_pipeline(g, resolver=resolver, on_node_event=events.append)
    assert events == []


def test_memory_limit_is_applied(resolver: ParquetFolderResolver, writer: FolderSinkWriter) -> None:
    g = chain(*PREP)
    result = run_pipeline(
        g, resolver=resolver, sink_writer=writer, engine_config={"memory_limit": "64MB", "threads": 1}
    )
    assert result.status == "succeeded"
