"""`dais pipelines` and `dais operators` against a live server (with a worker for runs), and the
`Pipeline` document of `dais apply -f` / `dais export`."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from dais.app import create_app
from dais.core.settings import DataSettings, Settings
from dais.db import Database
from dais.storage import open_store
from tests.cli.conftest import Run, as_json
from tests.client.test_pipelines import write_customers
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker

MANIFEST: dict[str, Any] = {
    "apiVersion": "dais/v1",
    "kind": "Pipeline",
    "metadata": {"workspace": "team", "name": "churn"},
    "spec": {
        "description": "churn features",
        "graph": {
            "nodes": [
                {"id": "source", "operator": "source", "params": {"dataset": "customers"}},
                {
                    "id": "impute",
                    "operator": "impute",
                    "params": {"strategy": "mean", "columns": ["age", "income"]},
                },
                {
                    "id": "scale",
                    "operator": "scale",
                    "params": {"method": "standard", "columns": ["age", "income"]},
                },
                {"id": "sink", "operator": "sink", "params": {"dataset": "churn-features"}},
            ],
            "edges": [
                {"source": "source", "target": "impute"},
                {"source": "impute", "target": "scale"},
                {"source": "scale", "target": "sink"},
            ],
        },
    },
}


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
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice


def write_manifest(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.slow
def test_operators_are_listed_and_shown(run: Run, alice: Actor) -> None:
    listed = run("operators", "list", as_=alice)
    assert "scale" in listed.stdout
    assert "train:table" in listed.stdout
    ops = {o["id"]: o for o in as_json(run("operators", "list", "--family", "io", "-o", "json", as_=alice))}
    assert set(ops) == {"source", "sink"}
    shown = run("operators", "show", "split", as_=alice)
    for word in ("train", "test", "train_ratio", "Params", "Ports"):
        assert word in shown.stdout
    missing = run("operators", "show", "nope", as_=alice, ok=False)
    assert missing.exit_code == 1
    assert "No operator 'nope'" in missing.output


@pytest.mark.slow
def test_a_pipeline_manifest_is_applied_validated_exported_and_deleted(
    run: Run, alice: Actor, tmp_path: Path
) -> None:
    file = write_manifest(tmp_path / "churn.yaml", MANIFEST)
    created = run("apply", "-f", str(file), as_=alice)
    assert "pipeline/team/churn created (4 nodes)" in created.stdout
    assert "unchanged" in run("apply", "-f", str(file), as_=alice).stdout

    changed = copy.deepcopy(MANIFEST)
    changed["spec"]["graph"]["nodes"][2]["params"]["method"] = "robust"
    changed["spec"]["message"] = "robust scaling"
    write_manifest(file, changed)
    planned = run("apply", "-f", str(file), "--dry-run", as_=alice)
    assert "configured (dry run) (a new version 2)" in planned.stdout
    assert "configured (version 2)" in run("apply", "-f", str(file), as_=alice).stdout

    listed = as_json(run("pipelines", "list", "-w", "team", "-o", "json", as_=alice))
    assert [(p["name"], p["current_version"]) for p in listed] == [("churn", 2)]
    shown = run("pipelines", "show", "churn", "-w", "team", as_=alice).stdout
    assert "method=robust" in shown
    assert (
        "method=standard"
        in run("pipelines", "show", "churn", "-w", "team", "--version", "1", as_=alice).stdout
    )
    versions = as_json(run("pipelines", "versions", "churn", "-w", "team", "-o", "json", as_=alice))
    assert [(v["number"], v["message"]) for v in versions] == [(2, "robust scaling"), (1, "applied")]

    # The dataset it reads does not exist: validation names the node and field; a run starts nothing.
    invalid = run("pipelines", "validate", "churn", "-w", "team", as_=alice, ok=False)
    assert invalid.exit_code == 1
    assert "source" in invalid.stdout
    assert "customers" in invalid.stdout
    unsaved = run("pipelines", "validate", "-w", "team", "-f", str(file), as_=alice, ok=False)
    assert unsaved.exit_code == 1
    refused = run("pipelines", "run", "churn", "-w", "team", as_=alice, ok=False)
    assert refused.exit_code == 1
    assert "nodes.source.params.dataset" in refused.output
    assert as_json(run("pipelines", "runs", "churn", "-w", "team", "-o", "json", as_=alice)) == []

    # Export, then apply what was exported: nothing changes.
    exported = run("pipelines", "export", "churn", "-w", "team", as_=alice).stdout
    doc = yaml.safe_load(exported)
    assert (doc["kind"], doc["metadata"]) == ("Pipeline", {"workspace": "team", "name": "churn"})
    assert doc["spec"]["graph"]["nodes"][2]["params"]["method"] == "robust"
    again = write_manifest(tmp_path / "exported.yaml", doc)
    assert "unchanged" in run("apply", "-f", str(again), as_=alice).stdout
    whole = list(yaml.safe_load_all(run("export", "-w", "team", as_=alice).stdout))
    assert [d["metadata"]["name"] for d in whole if d["kind"] == "Pipeline"] == ["churn"]

    run("pipelines", "delete", "churn", "-w", "team", "-y", as_=alice)
    gone = run("pipelines", "show", "churn", "-w", "team", as_=alice, ok=False)
    assert gone.exit_code == 1


@pytest.fixture
def worker(data_settings: Settings, db: Database) -> Iterator[None]:
    with running_worker(data_settings, db, open_store(data_settings)):
        yield


@pytest.mark.slow
def test_runs_are_watched_and_their_nodes_logs_and_samples_shown(
    run: Run, alice: Actor, tmp_path: Path, data_root: Path, worker: None
) -> None:
    write_customers(data_root / "customers.parquet")
    run("connections", "create", "lake", "-w", "team", "-k", "file", "-c", f"root={data_root}", as_=alice)
    run("datasets", "register", "customers", "-w", "team", "-c", "lake", "-p", "customers.parquet", as_=alice)
    run("apply", "-f", str(write_manifest(tmp_path / "churn.yaml", MANIFEST)), as_=alice)
    assert "is valid" in run("pipelines", "validate", "churn", "-w", "team", as_=alice).stdout

    debug = run("pipelines", "run", "churn", "-w", "team", "--debug", "--sample", "10", "--watch", as_=alice)
    assert "debug on 10 rows" in debug.stdout
    assert debug.stdout.count("succeeded") >= 4
    runs = as_json(run("pipelines", "runs", "churn", "-w", "team", "-o", "json", as_=alice))
    assert [(r["mode"], r["status"]) for r in runs] == [("debug", "succeeded")]
    sample = run("pipelines", "sample", "churn", "scale", "-w", "team", "--rows", "3", as_=alice).stdout
    assert "scale.out" in sample
    assert "3 of 10 rows shown" in sample
    logs = run("pipelines", "logs", "churn", "scale", "-w", "team", as_=alice)
    assert logs.exit_code == 0

    started = run("pipelines", "run", "churn", "-w", "team", as_=alice).stdout
    assert "Started run" in started
    full = as_json(run("pipelines", "runs", "churn", "-w", "team", "--limit", "1", "-o", "json", as_=alice))[
        0
    ]
    watched = run("pipelines", "watch", "churn", "-w", "team", "--run", full["id"], as_=alice).stdout
    assert "Wrote dataset churn-features version 1 (200 rows)" in watched
    finished = as_json(run("pipelines", "watch", "churn", "-w", "team", "-o", "json", as_=alice))
    assert finished["status"] == "succeeded"
    assert [n["status"] for n in finished["nodes"]] == ["succeeded"] * 4
    compared = run("pipelines", "compare", "churn", runs[0]["id"], full["id"], "-w", "team", as_=alice)
    assert "impute" in compared.stdout
