"""Pipelines through the SDK against a live server with a worker: the builder, saving versions,
validation (errors naming node and field), debug and full runs (a sink writing a dataset), re-runs
from a node, export and apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from fastapi import FastAPI

from dais import Client
from dais.app import create_app
from dais.client import PipelineBuilder, PipelineInvalid, PipelineRunFailed, Run
from dais.core.errors import NotFound
from dais.core.settings import DataSettings, Settings
from dais.db import Database
from dais.storage import open_store
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker

COLUMNS = ["age", "income"]


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def data_settings(settings: Settings, data_root: Path) -> Settings:
    return dataclasses.replace(
        settings, data=DataSettings(allowed_roots=[data_root], source_timeout_s=10, preview_timeout_s=10)
    )


@pytest.fixture
def app(data_settings: Settings, db: Database) -> FastAPI:
    return create_app(data_settings, db=db)


@pytest.fixture
def alice(world: World) -> Actor:
    alice, eve = world.user("alice"), world.user("eve")
    world.workspace("team", alice)
    world.workspace("other", eve)
    return alice


@pytest.fixture
def worker(data_settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running data and pipeline jobs."""
    with running_worker(data_settings, db, open_store(data_settings)):
        yield


@pytest.fixture
def client(server_url: str, alice: Actor) -> Iterator[Client]:
    with Client(server_url, alice.token, workspace="team") as c:
        yield c


def write_customers(path: Path, rows: int = 200) -> None:
    """Customers: an id, age (every 7th missing), income, a plan, and whether they left."""
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "age": pa.array([None if i % 7 == 0 else float(20 + i % 50) for i in range(rows)], pa.float64()),
            "income": pa.array([1000.0 + 37 * i for i in range(rows)], pa.float64()),
            "plan": pa.array([("basic", "pro", "team")[i % 3] for i in range(rows)]),
            "churned": pa.array([i % 4 == 0 for i in range(rows)]),
        }
    )
    pq.write_table(table, path)


@pytest.fixture
def customers(client: Client, data_root: Path, worker: None) -> str:
    """A registered `customers` dataset (200 rows) in `team`."""
    write_customers(data_root / "customers.parquet")
    client.connections.create("lake", "file", config={"root": str(data_root)})
    client.datasets.register("customers", connection="lake", path="customers.parquet")
    return "customers"


def churn_features(p: PipelineBuilder) -> PipelineBuilder:
    src = p.source("customers")
    clean = src.then("impute", strategy="mean", columns=COLUMNS)
    scaled = clean.then("scale", method="standard", columns=COLUMNS)
    scaled.then("sink", dataset="customers-features")
    return p


def test_the_builder_names_nodes_after_operators_and_links_ports() -> None:
    p = PipelineBuilder("features")
    src = p.source("customers", partitions="dt=${ds}")
    parts = src.then("split", train_ratio=0.8)
    parts.port("train").then("sink", dataset="train")
    parts.port("test").then("sink", dataset="test")
    joined = p.node("join", src, parts.port("test"), how="left", left_on=["id"], right_on=["id"])
    joined.then("sink", dataset="joined", id="joined-out")
    p.variable("ds", "2024-06-01", "the logical date")
    graph = p.graph()
    assert [n.id for n in graph.nodes] == ["source", "split", "sink", "sink_2", "join", "joined-out"]
    links = {(e.source, e.source_port, e.target, e.target_port) for e in graph.edges}
    assert links == {
        ("source", "out", "split", "in"),
        ("split", "train", "sink", "in"),
        ("split", "test", "sink_2", "in"),
        ("source", "out", "join", "in"),
        ("split", "test", "join", "in2"),
        ("join", "out", "joined-out", "in"),
    }
    assert graph.node("source") is not None
    assert graph.node("source").params == {"dataset": "customers", "partitions": "dt=${ds}"}  # type: ignore[union-attr]
    # Laid out left to right by depth, for the canvas.
    xs = {n.id: n.position.x for n in graph.nodes}
    assert xs["source"] < xs["split"] < xs["sink"] == xs["sink_2"]
    assert graph.variables[0].default == "2024-06-01"
    doc = yaml.safe_load(p.to_yaml())
    assert doc["edges"][0] == {"source": "source", "target": "split"}


def test_operators_are_listed_with_ports_and_params(client: Client) -> None:
    ops = {op.id: op for op in client.pipelines.operators()}
    assert {"source", "sink", "impute", "scale", "split", "join", "profile"} <= set(ops)
    assert [p.name for p in ops["split"].outputs] == ["train", "test"]
    params = {p.name: p for p in ops["scale"].params()}
    assert params["method"].choices is not None
    assert "standard" in params["method"].choices
    assert params["columns"].columns is not None
    assert client.pipelines.operators(family="io")
    with pytest.raises(NotFound):
        client.pipelines.operator("no-such-operator")


@pytest.mark.slow
def test_pipelines_are_saved_as_versions_validated_and_deleted(client: Client, customers: str) -> None:
    p = churn_features(client.pipelines.builder("churn", description="churn features"))
    pipeline = p.save(message="first cut")
    assert (pipeline.name, pipeline.current_version, pipeline.description) == ("churn", 1, "churn features")
    assert pipeline.graph is not None
    assert [n.id for n in pipeline.graph.nodes] == ["source", "impute", "scale", "sink"]
    again = p.save(message="nothing changed")
    assert again.current_version == 1

    check = pipeline.validate()
    assert check.valid, check.errors
    assert check.columns("scale") == ["id", "age", "income", "plan", "churned"]

    # Mistakes: a strategy out of the enum; a column that does not exist.
    b = pipeline.builder()
    b["impute"].set(strategy="average")
    bad = b.validate()
    assert (bad.errors[0].node_id, bad.errors[0].part, bad.errors[0].field) == (
        "impute",
        "params",
        "strategy",
    )
    b["impute"].set(strategy="median")
    b["scale"].set(columns=["age", "salary"])
    bad = b.validate()
    assert not bad.valid
    assert [(e.node_id, e.part, e.field) for e in bad.errors] == [("scale", "params", "columns.1")]
    assert "salary" in bad.errors[0].message
    with pytest.raises(PipelineInvalid) as raised:
        bad.raise_for_errors()
    assert any(i.node_id == "scale" for i in raised.value.issues)

    saved = b.save(message="broken on purpose")
    assert saved.current_version == 2
    assert [v.number for v in saved.versions()] == [2, 1]
    assert client.pipelines.version("churn", 1).graph == pipeline.graph
    # An invalid pipeline never starts a run: the SDK raises with node and field.
    with pytest.raises(PipelineInvalid) as refused:
        saved.run(mode="debug")
    assert any(i.node_id == "scale" and i.part == "params" for i in refused.value.issues)
    assert list(saved.runs()) == []

    # The example of docs/pipelines.md is valid.
    guide = client.pipelines.builder("churn-features")
    src = guide.source("customers")
    clean = src.then("impute", strategy="mean", columns=["age", "income"])
    scaled = clean.then("scale", method="standard", columns=["age", "income"])
    encoded = scaled.then("one_hot", columns=["plan"])
    parts = encoded.then("split", method="stratified", stratify_by="churned", train_ratio=0.8)
    parts.port("train").then("sink", dataset="churn-train")
    parts.port("test").then("sink", dataset="churn-test")
    assert guide.validate().errors == []

    renamed = client.pipelines.update("churn", new_name="churn-v2", description="renamed")
    assert renamed.name == "churn-v2"
    assert [x.name for x in client.pipelines.list()] == ["churn-v2"]
    client.pipelines.delete("churn-v2")
    with pytest.raises(NotFound):
        client.pipelines.get("churn-v2")


@pytest.mark.slow
def test_a_debug_run_and_a_full_run_write_per_node_results_and_a_dataset(
    client: Client, customers: str
) -> None:
    pipeline = churn_features(client.pipelines.builder("churn")).save()
    heard: list[str] = []
    debug = pipeline.run(mode="debug", sample_rows=20, progress=lambda r: heard.append(r.status))
    assert debug.succeeded, debug.summary()
    assert heard[-1] == "succeeded"
    assert debug.mode == "debug"
    assert debug.node_counts() == {"succeeded": 4}
    assert debug.summary() == "4 succeeded"
    scale = debug.node("scale")
    assert scale.rows_out == 20
    rows = scale.rows("out")
    assert len(rows) == 20
    assert set(rows[0]) == {"id", "age", "income", "plan", "churned"}
    assert "transform" in (scale.report or {})
    assert debug.outputs == []  # debug runs write nothing
    with pytest.raises(NotFound):
        client.datasets.get("customers-features")

    full = pipeline.run()
    assert full.succeeded, full.summary()
    assert [(o.dataset, o.version, o.rows) for o in full.outputs] == [("customers-features", 1, 200)]
    features = client.datasets.get("customers-features").to_pandas()
    assert len(features) == 200
    assert features["age"].isna().sum() == 0
    assert abs(features["income"].mean()) < 1e-9

    # Again from one node: its upstream comes from the cache.
    again = pipeline.run(from_node="scale")
    assert again.succeeded, again.summary()
    statuses = {n.node_id: n.status for n in again.nodes or []}
    assert statuses["scale"] == "succeeded"
    assert statuses["impute"] in ("cached", "succeeded")
    runs = list(pipeline.runs())
    assert [r.id for r in runs] == [again.id, full.id, debug.id]
    compared = client.pipelines.compare("churn", debug.id, full.id)
    assert {n.node_id for n in compared.nodes} == {"source", "impute", "scale", "sink"}


@pytest.mark.slow
def test_a_failing_node_fails_the_run_with_its_error(client: Client, customers: str) -> None:
    p = client.pipelines.builder("bad-sql")
    p.source("customers").then("sql", query="select cast(plan as integer) as x from t1").then(
        "sink", dataset="never"
    )
    pipeline = p.save()
    check = pipeline.validate()
    assert check.valid, check.errors  # the SQL's schema is unknown until it runs
    with pytest.raises(PipelineRunFailed) as failed:
        pipeline.run()
    run = failed.value.run
    assert isinstance(run, Run)
    assert run.status == "failed"
    assert [n.node_id for n in run.failed_nodes()] == ["sql"]
    statuses = {n.node_id: n.status for n in run.nodes or []}
    assert statuses["sink"] == "skipped"
    assert "Conversion Error" in (run.node("sql").error or "")
    assert pipeline.get_run(run.id).wait(check=False).status == "failed"


def test_export_and_apply_round_trip(client: Client) -> None:
    churn_features(client.pipelines.builder("churn", description="features")).save(message="v1")
    text = client.pipelines.export("churn")
    doc = yaml.safe_load(text)
    assert doc["kind"] == "Pipeline"
    assert doc["metadata"] == {"workspace": "team", "name": "churn"}
    spec = doc["spec"]
    assert spec["description"] == "features"

    same = client.pipelines.apply("churn", graph=spec["graph"], description="features")
    assert (same.action, same.pipeline.current_version) == ("unchanged", 1)
    spec["graph"]["nodes"][2]["params"]["method"] = "min_max"
    changed = client.pipelines.apply("churn", graph=spec["graph"], description="features", message="minmax")
    assert (changed.action, changed.pipeline.current_version) == ("configured", 2)
    copy = client.pipelines.apply("churn-copy", graph=spec["graph"], workspace="team")
    assert copy.action == "created"
    assert copy.pipeline.graph == changed.pipeline.graph
