"""Image classification through the training API and a real worker: an image folder registered as a
media dataset (its ``data.register`` job), a CNN trained on it (images read from the dataset's
connection), per-epoch metrics, ``evaluation.json`` and a package ``mlflow.pytorch`` loads; requests
that cannot train on images answer 422 naming the field before any run exists. Also: a time split
whose cut-off the stored statistics show to leave a side empty is refused before submitting."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.core.settings import DataSettings, Settings
from dais.db import Database
from dais.registry.package import download_package
from dais.storage import WorkspaceArtifacts, open_store
from dais.tracking.models import Run, RunLatestMetric, RunMetric
from tests.conftest import make_settings
from tests.training.conftest import WS, Team, customers, register, wait_job

CNN = {"image_size": 16, "conv_layers": 2, "filters": 8, "epochs": 2, "batch_size": 8, "lr": 0.01}
IMAGES: dict[str, Any] = {"dataset": "shapes", "algorithm": "cnn_image_classifier", "params": CNN}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def settings(tmp_path: Path, db_url: str, data_root: Path) -> Settings:
    """The platform's settings, with a folder ``file`` connections may read."""
    return dataclasses.replace(
        make_settings(tmp_path / "home", db_url),
        data=DataSettings(allowed_roots=[data_root], source_timeout_s=10),
    )


def _draw(color: str, rng: np.random.Generator) -> bytes:
    """A 20x20 noisy PNG with a red or blue square somewhere in it."""
    from PIL import Image

    arr = rng.integers(0, 60, size=(20, 20, 3), dtype=np.uint8)
    top, left = rng.integers(0, 10, 2)
    arr[top : top + 10, left : left + 10, 0 if color == "red" else 2] = 230
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _image_folder(root: Path, labels: tuple[str, ...], per_label: int) -> None:
    """``root/<label>/<n>.png``, one loose image with no folder (no label), and a text file."""
    rng = np.random.default_rng(0)
    for label in labels:
        (root / label).mkdir(parents=True)
        for i in range(per_label):
            (root / label / f"{i}.png").write_bytes(_draw(label, rng))
    (root / "loose.png").write_bytes(_draw(labels[0], rng))


def _register_images(api: TestClient, team: Team, data_root: Path) -> None:
    """Register ``shapes`` (red and blue, 12 each) and ``reds`` (one class) through the data API."""
    _image_folder(data_root / "shapes", ("red", "blue"), 12)
    _image_folder(data_root / "reds", ("red",), 4)
    r = api.post(
        f"{WS}/connections",
        headers=team.h,
        json={"name": "files", "kind": "file", "config": {"root": str(data_root)}},
    )
    assert r.status_code == 201, r.text
    jobs = []
    for name in ("shapes", "reds"):
        body = {"name": name, "connection": "files", "source": {"path": name, "format": "images"}}
        r = api.post(f"{WS}/datasets", headers=team.h, json=body)
        assert r.status_code == 202, r.text
        jobs.append(r.json()["job"]["id"])
    for job_id in jobs:
        job = wait_job(api, team.h, job_id)
        assert job["state"] == "succeeded", job["error"]


def _runs(db: Database) -> int:
    with db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Run)) or 0)


BAD: list[tuple[dict[str, Any], list[Any]]] = [
    ({"dataset": "customers"}, ["body", "dataset"]),  # a table, not images
    ({"features": ["size"]}, ["body", "features"]),
    ({"target": "format"}, ["body", "target"]),
    ({"split": {"kind": "time", "column": "size"}}, ["body", "split", "kind"]),
    ({"transforms": {"pipeline_run": "x"}}, ["body", "transforms"]),
    ({"dataset": "reds"}, ["body", "target"]),  # one class only
    ({"split": {"kind": "holdout", "valid_fraction": 0.99}}, ["body", "split", "valid_fraction"]),
    ({"split": {"kind": "kfold", "k": 30}}, ["body", "split", "k"]),  # 24 labelled images
    ({"algorithm": "lightgbm_classifier", "params": {}, "target": "label"}, ["body", "dataset"]),
]


def _bad_requests(api: TestClient, team: Team, db: Database) -> None:
    for change, loc in BAD:
        r = api.post(f"{WS}/training/runs", headers=team.h, json={**IMAGES, **change})
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert any(e["loc"][: len(loc)] == loc for e in errors), (change, errors)
    assert _runs(db) == 0


def _latest(db: Database, run_id: str) -> dict[str, float]:
    with db.session(write=False) as s:
        rows = s.execute(
            select(RunLatestMetric.key, RunLatestMetric.value).where(RunLatestMetric.run_id == run_id)
        )
        return {str(k): float(v) for k, v in rows}


def _steps(db: Database, run_id: str, key: str) -> list[int]:
    with db.session(write=False) as s:
        return list(
            s.scalars(
                select(RunMetric.step)
                .where(RunMetric.run_id == run_id, RunMetric.key == key)
                .order_by(RunMetric.step)
            )
        )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*Any type hint:UserWarning")  # importing mlflow warns about its hints
def test_a_cnn_trains_on_an_image_folder_dataset_through_a_job(
    api: TestClient,
    team: Team,
    settings: Settings,
    db: Database,
    data_root: Path,
    worker: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register_images(api, team, data_root)
    register(settings, db, team.team_id, "customers", customers(40))
    _bad_requests(api, team, db)

    r = api.post(f"{WS}/training/runs", headers=team.h, json={**IMAGES, "experiment": "shapes"})
    assert r.status_code == 202, r.text
    launched = r.json()
    spec = api.get(f"{WS}/jobs/{launched['job_id']}", headers=team.h).json()["spec"]
    assert (spec["target"], spec["split"]["kind"]) == ("label", "holdout")
    assert spec.get("features") is None
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow.pyfunc  # while the job runs
    import mlflow.pytorch
    import torch

    job = wait_job(api, team.h, launched["job_id"], timeout=120)
    assert job["state"] == "succeeded", job["error"]
    log = api.get(f"{WS}/jobs/{launched['job_id']}/logs", headers=team.h).text
    assert "left out 1 row(s): no label" in log  # the loose image

    with db.session(write=False) as s:
        run = s.get(Run, launched["run_id"])
        assert run is not None
    assert run.status == "FINISHED"
    latest = _latest(db, run.id)
    assert {"accuracy", "f1_macro", "log_loss", "precision", "recall", "fit_seconds"} <= set(latest)
    assert 0 <= latest["accuracy"] <= 1
    for key in ("train_logloss", "valid_logloss", "valid_accuracy"):  # once per epoch
        assert len(_steps(db, run.id, key)) == 2, key

    arts = WorkspaceArtifacts(open_store(settings), team.team_id)
    base = f"mlflow/{run.experiment_id}/{run.id}/artifacts"
    evaluation = json.loads(b"".join(arts.read(f"{base}/evaluation.json")))
    assert evaluation["task"] == "image_classification"
    assert evaluation["classes"] == ["blue", "red"]
    assert evaluation["rows"] == {"total": 24, "train": 19, "valid": 5}
    assert np.asarray(evaluation["confusion_matrix"]["matrix"]).sum() == 5

    package = download_package(arts, f"{base}/model", tmp_path / "model")
    dais = json.loads((package / "dais.json").read_text())
    assert dais["runtime"] == "torch"
    assert dais["lineage"]["classes"] == ["blue", "red"]
    mlmodel = yaml.safe_load((package / "MLmodel").read_text())
    assert json.loads(mlmodel["signature"]["inputs"])[0]["tensor-spec"]["shape"] == [-1, 3, 16, 16]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.load notes that it hands a TorchScript archive to torch.jit
        model = mlflow.pytorch.load_model(str(package))
    batch = torch.rand(3, 3, 16, 16)
    proba = model(batch).detach().numpy()
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    labels = mlflow.pyfunc.load_model(str(package)).predict(batch.numpy())  # labels, as other presets'
    assert labels.tolist() == np.asarray(["blue", "red"])[proba.argmax(axis=1)].tolist()
    assert mlmodel["signature"]["outputs"] is None  # text labels: no tensor type


def test_a_time_split_cut_off_outside_the_column_is_refused_before_submitting(
    api: TestClient, team: Team, settings: Settings, db: Database
) -> None:
    register(settings, db, team.team_id, "customers", customers(40))  # signups 2024-01-01 .. 02-09
    body = {"dataset": "customers", "target": "churn", "algorithm": "lightgbm_classifier"}
    for cutoff, side in (
        ("2030-01-01", "validate on"),
        ("2023-06-01", "train on"),
        ("2024-01-01", "train on"),
    ):
        split: dict[str, Any] = {"kind": "time", "column": "signup", "cutoff": cutoff}
        r = api.post(f"{WS}/training/runs", headers=team.h, json={**body, "split": split})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "empty_split"
        assert r.json()["errors"][0]["loc"] == ["body", "split", "cutoff"]
        assert side in r.json()["detail"]
    split = {"kind": "time", "column": "tenure", "cutoff": 1000}  # a numeric column
    r = api.post(f"{WS}/training/runs", headers=team.h, json={**body, "split": split})
    assert r.status_code == 422, r.text
    assert _runs(db) == 0
    split = {"kind": "time", "column": "signup", "cutoff": "2024-01-20"}
    r = api.post(f"{WS}/training/runs", headers=team.h, json={**body, "split": split})
    assert r.status_code == 202, r.text
