"""The native tracking API (``/api/v1``): experiments CRUD with soft delete, column keys, run search
(MLflow's filter grammar, ordering with missing values last, keyset pages that agree with one big
page, chosen columns, totals), run detail and edits, metric history (downsampled, several runs at
once), artifacts (listing, ranges), evaluation data, compare; roles and workspace isolation; bad
input as problem+json 4xx.

One database and one app per module (tests name their own experiments, so they do not meet).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dais.app import create_app
from dais.db import Database, create_database
from dais.jobs.models import Job
from dais.registry import create_logged_model
from dais.storage import WorkspaceArtifacts
from dais.tenancy import Role, WorkspaceAccess, require_workspace
from dais.tenancy.access import Principal
from dais.tenancy.service import get_user
from dais.tracking import queries
from dais.tracking import service as svc
from dais.tracking.service import DatasetInput, MetricIn, ParamIn, TagIn
from tests.conftest import Actor, World, make_settings

WS = "/api/v1/workspaces/team"
OTHER = "/api/v1/workspaces/other"
T0 = 1_700_000_000_000


@dataclass
class Env:
    api: TestClient
    app: FastAPI
    db: Database
    alice: Actor  # owner of team
    victor: Actor  # viewer in team
    eve: Actor  # owner of other

    @contextmanager
    def editing(self, username: str = "alice", ws: str = "team") -> Iterator[tuple[Session, WorkspaceAccess]]:
        with self.db.session() as s:
            principal = Principal(get_user(s, username), "token")
            yield s, require_workspace(s, principal, ws, Role.editor)

    def artifacts(self, ws_id: str) -> WorkspaceArtifacts:
        return WorkspaceArtifacts(self.app.state.store, ws_id)


@pytest.fixture(scope="module")
def env(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings = make_settings(tmp_path_factory.mktemp("home"), module_db_url)
    db = create_database(settings.database_url)
    world = World(db)
    alice, victor, eve = world.user("alice"), world.user("victor"), world.user("eve")
    world.workspace("team", alice, {"victor": "viewer"})
    world.workspace("other", eve)
    app = create_app(settings, db=db)
    with TestClient(app) as api:
        yield Env(api, app, db, alice, victor, eve)
    db.dispose()


def _run(
    s: Session,
    a: WorkspaceAccess,
    exp_id: int,
    name: str,
    start: int,
    *,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    status: str = "FINISHED",
    parent: str | None = None,
    job_id: str | None = None,
) -> str:
    run = svc.create_run(s, a, exp_id, name=name, start_time=start, parent_run_id=parent, job_id=job_id)
    svc.log_batch(
        s,
        a,
        run.id,
        params=[ParamIn(k, v) for k, v in (params or {}).items()],
        metrics=[MetricIn(k, v, start, 0) for k, v in (metrics or {}).items()],
        tags=[TagIn(k, v) for k, v in (tags or {}).items()],
    )
    svc.update_run(s, a, run.id, status=status, end_time=start + 100)
    return run.id


@dataclass
class Seeded:
    exp_id: str
    a: str
    b: str
    c: str
    child: str
    other_exp_run: str
    foreign: str
    foreign_exp: str
    job_id: str
    model_id: str
    ws_id: str


@pytest.fixture(scope="module")
def seeded(env: Env) -> Seeded:
    """Experiment ``vision`` in team: runs a, b, c and a child of a; ``other-exp`` with one run;
    experiment ``foreign`` in workspace other."""
    with env.editing() as (s, a):
        exp = svc.create_experiment(s, a, "vision", tags={"mlflow.note.content": "image models"})
        job = Job(
            workspace_id=a.workspace.id, name="train vision", kind="train.run", spec={}, state="running"
        )
        s.add(job)
        s.flush()
        ra = _run(
            s, a, exp.id, "a", T0 + 3000, params={"lr": "0.1", "opt": "adam"}, metrics={"loss": 0.3},
            tags={"team": "cv"}, job_id=job.id,
        )  # fmt: skip
        svc.log_batch(
            s, a, ra, metrics=[MetricIn("acc", v, T0 + i, i) for i, v in enumerate((0.5, 0.7, 0.9))]
        )
        svc.log_batch(
            s, a, ra, metrics=[MetricIn("train/loss", 1.0 / (i + 1), T0 + i, i) for i in range(300)]
        )  # fmt: skip
        svc.log_inputs(
            s, a, ra, [DatasetInput(name="cifar", digest="abc123", source_type="dais", source="ds://cifar")]
        )
        rb = _run(
            s, a, exp.id, "b", T0 + 2000, params={"lr": "0.01", "opt": "adam"},
            metrics={"acc": 0.8, "loss": math.nan}, tags={"team": "nlp"},
        )  # fmt: skip
        rc = _run(
            s,
            a,
            exp.id,
            "c",
            T0 + 1000,
            params={"lr": "0.1", "opt": "sgd"},
            metrics={"loss": 0.5},
            status="FAILED",
        )
        child = _run(s, a, exp.id, "child", T0 + 500, params={"lr": "0.1"}, metrics={"acc": 0.6}, parent=ra)
        model = create_logged_model(s, a, exp.id, name="clf", source_run_id=ra, model_type="sklearn")
        other = svc.create_experiment(s, a, "other-exp")
        rx = _run(s, a, other.id, "x", T0, metrics={"acc": 0.99})
        ids = (str(exp.id), ra, rb, rc, child, rx, job.id, model.id, a.workspace.id)
    with env.editing("eve", "other") as (s, a):
        fexp = svc.create_experiment(s, a, "foreign")
        rf = _run(s, a, fexp.id, "f", T0, params={"lr": "0.1"}, metrics={"acc": 0.95}, tags={"eve": "x"})
        fexp_id = str(fexp.id)
    exp_id, ra, rb, rc, child, rx, job_id, model_id, ws_id = ids
    return Seeded(exp_id, ra, rb, rc, child, rx, rf, fexp_id, job_id, model_id, ws_id)


def _search(
    env: Env, body: dict[str, Any], *, ws: str = WS, as_: Actor | None = None, code: int = 200
) -> Any:
    r = env.api.post(f"{ws}/runs/search", headers=(as_ or env.alice).headers, json=body)
    assert r.status_code == code, r.text
    return r.json()


def _names(page: dict[str, Any]) -> list[str]:
    return [i["name"] for i in page["items"]]


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


# -- experiments -----------------------------------------------------------------------------------


def test_experiments_are_created_listed_renamed_deleted_and_restored(env: Env) -> None:
    h = env.alice.headers
    r = env.api.post(
        f"{WS}/experiments", headers=h, json={"name": "exp-crud", "description": "first", "tags": {"k": "v"}}
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "exp-crud"
    assert made["description"] == "first"
    assert made["tags"]["k"] == "v"
    assert made["id"].isdigit()
    assert made["lifecycle_stage"] == "active"
    assert made["run_count"] == 0
    again = env.api.post(f"{WS}/experiments", headers=h, json={"name": "exp-crud"})
    assert _problem(again, 409)["code"] == "resource_already_exists"

    assert env.api.get(f"{WS}/experiments/{made['id']}", headers=h).json()["name"] == "exp-crud"
    assert env.api.get(f"{WS}/experiments/exp-crud", headers=h).json()["id"] == made["id"]
    listed = env.api.get(f"{WS}/experiments", headers=h, params={"q": "crud"}).json()
    assert [e["name"] for e in listed["items"]] == ["exp-crud"]

    patched = env.api.patch(
        f"{WS}/experiments/exp-crud",
        headers=h,
        json={"name": "exp-crud2", "description": "second", "tags": {"k": None}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "exp-crud2"
    assert patched.json()["description"] == "second"
    assert "k" not in patched.json()["tags"]

    assert env.api.delete(f"{WS}/experiments/{made['id']}", headers=h).status_code == 204
    active = env.api.get(f"{WS}/experiments", headers=h, params={"q": "crud"}).json()["items"]
    deleted = env.api.get(f"{WS}/experiments", headers=h, params={"q": "crud", "view": "deleted"}).json()[
        "items"
    ]
    assert active == []
    assert [e["name"] for e in deleted] == ["exp-crud2"]
    assert env.api.get(f"{WS}/experiments/exp-crud2", headers=h).json()["lifecycle_stage"] == "deleted"
    _problem(env.api.delete(f"{WS}/experiments/{made['id']}", headers=h), 422)
    restored = env.api.post(f"{WS}/experiments/exp-crud2/restore", headers=h)
    assert restored.status_code == 200
    assert restored.json()["lifecycle_stage"] == "active"


def test_experiment_listing_pages_and_sorts_and_counts_runs(env: Env, seeded: Seeded) -> None:
    h = env.alice.headers
    for i in range(3):
        env.api.post(f"{WS}/experiments", headers=h, json={"name": f"page-{i}"})
    seen, cursor = [], None
    while True:
        body = env.api.get(
            f"{WS}/experiments",
            headers=h,
            params={"q": "page-", "sort": "name", "limit": 2, "cursor": cursor},
        ).json()
        seen += [e["name"] for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ["page-0", "page-1", "page-2"]
    desc = env.api.get(f"{WS}/experiments", headers=h, params={"q": "page-", "sort": "-name"}).json()
    assert [e["name"] for e in desc["items"]] == ["page-2", "page-1", "page-0"]
    vision = env.api.get(f"{WS}/experiments/vision", headers=h).json()
    assert vision["run_count"] == 4
    assert vision["last_run_time"] == T0 + 3000
    assert vision["description"] == "image models"

    assert _problem(env.api.get(f"{WS}/experiments", headers=h, params={"sort": "colour"}), 422)["errors"]
    _problem(env.api.get(f"{WS}/experiments", headers=h, params={"cursor": "not-a-cursor"}), 422)
    other_sort = env.api.get(f"{WS}/experiments", headers=h, params={"sort": "name", "limit": 1}).json()
    _problem(env.api.get(f"{WS}/experiments", headers=h, params={"cursor": other_sort["next_cursor"]}), 422)


def test_viewers_read_experiments_but_only_editors_change_them_and_workspaces_stay_apart(
    env: Env, seeded: Seeded
) -> None:
    v = env.victor.headers
    assert env.api.get(f"{WS}/experiments/vision", headers=v).status_code == 200
    _problem(env.api.post(f"{WS}/experiments", headers=v, json={"name": "nope"}), 403)
    _problem(env.api.patch(f"{WS}/experiments/vision", headers=v, json={"name": "nope"}), 403)
    _problem(env.api.delete(f"{WS}/experiments/vision", headers=v), 403)
    # eve is no member of team; alice cannot reach eve's experiment through team, even by id
    _problem(env.api.get(f"{WS}/experiments", headers=env.eve.headers), 404)
    _problem(env.api.get(f"{WS}/experiments/{seeded.foreign_exp}", headers=env.alice.headers), 404)
    _problem(env.api.get(f"{WS}/experiments/foreign", headers=env.alice.headers), 404)
    _problem(env.api.get(f"{OTHER}/experiments/foreign", headers=env.alice.headers), 404)


@pytest.mark.parametrize("probe", [None, 200, 0], ids=["small", "large", "large-read-all"])
def test_experiment_columns_list_the_keys_of_its_runs(
    env: Env, seeded: Seeded, probe: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if probe is not None:  # as for a big experiment: a sample of its rows, then probes of other keys
        monkeypatch.setattr(queries, "COLUMNS_SCAN_MAX", 2)
        monkeypatch.setattr(queries, "KEY_SAMPLE_ROWS", 1)
        monkeypatch.setattr(queries, "KEY_PROBE_ROWS", probe)  # 0: a probe settles nothing
    cols = env.api.get(f"{WS}/experiments/{seeded.exp_id}/columns", headers=env.victor.headers).json()
    assert cols["params"] == ["lr", "opt"]  # not eve's keys, nor other experiments'
    assert cols["metrics"] == ["acc", "loss", "train/loss"]
    assert cols["tags_from_newest"] is None
    # every run's tag keys, the oldest run's (the child's mlflow.parentRunId) too; not eve's
    assert {"team", "mlflow.runName", "mlflow.parentRunId"} <= set(cols["tags"])
    assert "eve" not in cols["tags"]


# -- run search ------------------------------------------------------------------------------------


def test_run_search_filters_with_mlflows_grammar_and_returns_the_chosen_columns(
    env: Env, seeded: Seeded
) -> None:
    body = {"experiment_ids": [seeded.exp_id], "params": ["lr"], "metrics": ["acc", "loss"], "tags": ["team"]}
    page = _search(env, body, as_=env.victor)
    assert _names(page) == ["a", "b", "c", "child"]  # newest first
    assert page["total"] == 4
    assert page["next_cursor"] is None
    a = page["items"][0]
    assert a["params"] == {"lr": "0.1"}
    assert a["tags"] == {"team": "cv"}
    assert a["metrics"] == {"acc": 0.9, "loss": 0.3}
    assert a["job_id"] == seeded.job_id
    assert a["status"] == "FINISHED"
    assert a["duration_ms"] == 100
    b = page["items"][1]
    assert b["metrics"] == {"acc": 0.8, "loss": None}  # NaN comes back as null

    def names(flt: str) -> list[str]:
        return _names(_search(env, {"experiment_ids": [seeded.exp_id], "filter": flt}))

    assert names("metrics.acc > 0.7") == ["a", "b"]
    assert names("params.lr = '0.1' AND attributes.status = 'FINISHED'") == ["a", "child"]
    assert names("tags.team LIKE 'c%'") == ["a"]
    assert names(f"attributes.run_id IN ('{seeded.b}', '{seeded.c}')") == ["b", "c"]
    assert names("attributes.run_name ILIKE 'CH%'") == ["child"]
    assert names("datasets.name = 'cifar'") == ["a"]
    both = _search(env, {"experiment_ids": [seeded.exp_id, _exp_id(env, "other-exp")]})
    assert len(both["items"]) == 5


def _exp_id(env: Env, name: str) -> str:
    return str(env.api.get(f"{WS}/experiments/{name}", headers=env.alice.headers).json()["id"])


def test_run_search_orders_with_missing_values_last(env: Env, seeded: Seeded) -> None:
    def order(*items: str) -> list[str]:
        return _names(_search(env, {"experiment_ids": [seeded.exp_id], "order_by": list(items)}))

    assert order("metrics.acc DESC") == ["a", "b", "child", "c"]
    assert order("metrics.acc ASC") == ["child", "b", "a", "c"]
    assert order("metrics.loss") == ["a", "c", "b", "child"]  # b's loss is NaN: with the missing
    assert order("params.opt DESC", "attributes.run_name") == ["c", "a", "b", "child"]
    assert order("attributes.start_time") == ["child", "c", "b", "a"]
    assert order("attributes.run_name DESC") == ["child", "c", "b", "a"]


def test_run_search_bad_input_is_a_clear_422(env: Env, seeded: Seeded) -> None:
    exp = [seeded.exp_id]
    bad = _search(env, {"experiment_ids": exp, "filter": "metrics.acc >> 1"}, code=422)
    assert bad["code"] == "invalid_parameter_value"
    assert bad["detail"].startswith("The filter 'metrics.acc >> 1' is not valid: Invalid comparison clause")
    assert bad["errors"][0]["loc"] == ["body", "filter"]
    bad = _search(env, {"experiment_ids": exp, "filter": "metrics.acc > 'high'"}, code=422)
    assert "numeric" in bad["detail"]
    bad = _search(env, {"experiment_ids": exp, "filter": "colour.x = 'a'"}, code=422)
    assert "colour" in bad["detail"]
    assert (
        "order_by"
        in _search(env, {"experiment_ids": exp, "order_by": ["metrics.acc DESC DESC"]}, code=422)["detail"]
    )
    _search(env, {"experiment_ids": ["abc"]}, code=422)
    _search(env, {"experiment_ids": []}, code=422)
    _search(env, {"experiment_ids": exp, "limit": 0}, code=422)
    _search(env, {"experiment_ids": exp, "cursor": "###"}, code=422)
    first = _search(env, {"experiment_ids": exp, "limit": 1})
    moved = _search(
        env,
        {"experiment_ids": exp, "limit": 1, "filter": "params.lr = '0.1'", "cursor": first["next_cursor"]},
        code=422,
    )
    assert "another search" in json.dumps(moved["errors"])
    # an experiment of another workspace, or none at all, is named in a 404
    missing = _search(env, {"experiment_ids": [seeded.foreign_exp]}, code=404)
    assert seeded.foreign_exp in missing["detail"]
    _search(env, {"experiment_ids": ["999999"]}, code=404)


@pytest.mark.parametrize("steer_min", [queries.STEER_MIN_RUNS, 5], ids=["few-runs", "many-runs"])
def test_keyset_pages_walk_every_ordering_exactly_as_one_big_page(
    env: Env, steer_min: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ties, missing values and NaN on every kind of sort key: small pages add up to the big page,
    which itself follows the rule (value order, missing last, then newest first, then id). Both
    ways SQLite is steered for a metric or param order (from the runs, or from the (key, value)
    index) agree."""
    monkeypatch.setattr(queries, "STEER_MIN_RUNS", steer_min)
    rng = random.Random(7)
    with env.editing() as (s, a):
        exp = svc.create_experiment(s, a, f"paging-{steer_min}")
        for i in range(23):
            metrics = {} if i % 5 == 0 else {"m": math.nan if i % 7 == 0 else float(rng.choice([1, 2, 3]))}
            params = {} if i % 4 == 0 else {"p": rng.choice(["x", "y"])}
            _run(
                s,
                a,
                exp.id,
                f"r{i:02d}",
                T0 + rng.choice([0, 1, 2, 3]) * 1000,
                params=params,
                metrics=metrics,
            )
        exp_id = str(exp.id)
    full = _search(env, {"experiment_ids": [exp_id], "limit": 500, "params": ["p"], "metrics": ["m"]})[
        "items"
    ]
    assert len(full) == 23
    for order_by in (
        [],
        ["metrics.m DESC"],
        ["metrics.m"],
        ["params.p"],
        ["params.p DESC", "metrics.m"],
        ["attributes.start_time"],
        ["attributes.run_name DESC"],
    ):
        big = _search(env, {"experiment_ids": [exp_id], "order_by": order_by, "limit": 500})["items"]
        assert [r["id"] for r in big] == _expected(full, order_by), order_by
        walked, cursor, pages = [], None, 0
        while True:
            page = _search(
                env,
                {
                    "experiment_ids": [exp_id],
                    "order_by": order_by,
                    "limit": 4,
                    "cursor": cursor,
                    "total": False,
                },
            )
            assert page["total"] is None
            walked += [r["id"] for r in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert walked == [r["id"] for r in big], order_by
        assert pages == 6


def _expected(rows: list[dict[str, Any]], order_by: list[str]) -> list[str]:
    """The order the API promises, computed here: each key ascending or descending with missing
    (and NaN) values last, then start time newest first (unless ordered on), then run id."""

    def value(row: dict[str, Any], item: str) -> Any:
        ident = item.split()[0]
        kind, key = ident.split(".", 1)
        if kind == "metrics":
            return row["metrics"].get(key)
        if kind == "params":
            return row["params"].get(key)
        return {"start_time": row["start_time"], "run_name": row["name"]}[key]

    keyed = sorted(rows, key=lambda r: r["id"])
    items = list(order_by)
    if not any(i.startswith("attributes.start_time") for i in items):
        items.append("attributes.start_time DESC")
    for item in reversed(items):
        desc = item.endswith(" DESC")
        present = [r for r in keyed if value(r, item) is not None]
        missing = [r for r in keyed if value(r, item) is None]
        keyed = sorted(present, key=lambda r: value(r, item), reverse=desc) + missing
    return [r["id"] for r in keyed]


# -- one run ---------------------------------------------------------------------------------------


def test_run_detail_has_params_tags_metrics_inputs_job_family_and_models(env: Env, seeded: Seeded) -> None:
    r = env.api.get(f"{WS}/runs/{seeded.a}", headers=env.victor.headers)
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["name"] == "a"
    assert run["experiment_name"] == "vision"
    assert run["experiment_id"] == seeded.exp_id
    assert run["params"] == {"lr": "0.1", "opt": "adam"}
    assert run["tags"]["team"] == "cv"
    assert run["tags"]["mlflow.runName"] == "a"
    metrics = {m["key"]: m for m in run["metrics"]}
    assert metrics["acc"]["value"] == 0.9
    assert metrics["acc"]["step"] == 2
    assert metrics["train/loss"]["step"] == 299
    assert run["inputs"][0]["name"] == "cifar"
    assert run["inputs"][0]["digest"] == "abc123"
    assert run["job"] == {
        "id": seeded.job_id,
        "name": "train vision",
        "kind": "train.run",
        "state": "running",
        "attempt": 0,
    }
    assert [c["id"] for c in run["children"]] == [seeded.child]
    assert run["child_count"] == 1
    assert run["parent"] is None
    assert [m["id"] for m in run["logged_models"]] == [seeded.model_id]
    assert run["artifact_root"] == f"mlflow/{seeded.exp_id}/{seeded.a}/artifacts"
    child = env.api.get(f"{WS}/runs/{seeded.child}", headers=env.victor.headers).json()
    assert child["parent"]["id"] == seeded.a
    _problem(env.api.get(f"{WS}/runs/{seeded.foreign}", headers=env.alice.headers), 404)
    _problem(env.api.get(f"{OTHER}/runs/{seeded.foreign}", headers=env.alice.headers), 404)
    _problem(env.api.get(f"{WS}/runs/nope", headers=env.alice.headers), 404)


def test_runs_are_renamed_finished_described_deleted_and_restored_by_editors(env: Env) -> None:
    with env.editing() as (s, a):
        exp = svc.create_experiment(s, a, "edits")
        run = svc.create_run(s, a, exp.id, name="draft")
        run_id, exp_id = run.id, str(exp.id)
    h, v = env.alice.headers, env.victor.headers
    _problem(env.api.patch(f"{WS}/runs/{run_id}", headers=v, json={"name": "x"}), 403)
    _problem(env.api.patch(f"{WS}/runs/{run_id}", headers=h, json={"status": "DONE"}), 422)
    r = env.api.patch(
        f"{WS}/runs/{run_id}", headers=h, json={"name": "final", "status": "FINISHED", "description": "ok"}
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["name"] == "final"
    assert done["status"] == "FINISHED"
    assert done["end_time"] is not None
    assert done["description"] == "ok"
    assert done["tags"]["mlflow.runName"] == "final"

    _problem(env.api.delete(f"{WS}/runs/{run_id}", headers=v), 403)
    assert env.api.delete(f"{WS}/runs/{run_id}", headers=h).status_code == 204
    assert _search(env, {"experiment_ids": [exp_id]})["items"] == []
    assert _names(_search(env, {"experiment_ids": [exp_id], "view": "deleted"})) == ["final"]
    assert env.api.get(f"{WS}/runs/{run_id}", headers=h).json()["lifecycle_stage"] == "deleted"
    restored = env.api.post(f"{WS}/runs/{run_id}/restore", headers=h)
    assert restored.status_code == 200
    assert restored.json()["lifecycle_stage"] == "active"
    audit = env.api.get(f"{WS}/audit", headers=h, params={"limit": 500})
    assert audit.status_code == 200, audit.text
    mine = [e["action"] for e in audit.json()["items"] if e.get("target_id") == run_id]
    assert {"run.update", "run.status", "run.delete", "run.restore"} <= set(mine)


# -- metric history --------------------------------------------------------------------------------


def test_metric_history_is_downsampled_for_charts_keeping_ends_and_extremes(env: Env, seeded: Seeded) -> None:
    h = env.victor.headers
    whole = env.api.get(f"{WS}/runs/{seeded.a}/metrics/train/loss/history", headers=h).json()
    assert whole["downsampled"] is False
    assert len(whole["points"]) == 300
    assert [p["step"] for p in whole["points"]] == list(range(300))
    small = env.api.get(
        f"{WS}/runs/{seeded.a}/metrics/train/loss/history", headers=h, params={"max_points": 40}
    ).json()
    assert small["downsampled"] is True
    assert 20 <= len(small["points"]) <= 40
    steps = [p["step"] for p in small["points"]]
    assert steps == sorted(steps)
    assert steps[0] == 0
    assert steps[-1] == 299
    assert max(p["value"] for p in small["points"]) == 1.0
    nan = env.api.get(f"{WS}/runs/{seeded.b}/metrics/loss/history", headers=h).json()
    assert nan["points"][0]["value"] is None
    _problem(env.api.get(f"{WS}/runs/{seeded.a}/metrics/nope/history", headers=h), 404)
    _problem(
        env.api.get(f"{WS}/runs/{seeded.a}/metrics/acc/history", headers=h, params={"max_points": 1}), 422
    )
    _problem(env.api.get(f"{WS}/runs/{seeded.foreign}/metrics/acc/history", headers=h), 404)


def test_metric_histories_of_several_runs_come_in_one_call(env: Env, seeded: Seeded) -> None:
    body = {"run_ids": [seeded.a, seeded.b, seeded.c], "keys": ["acc", "train/loss"], "max_points": 100}
    r = env.api.post(f"{WS}/runs/metrics/history", headers=env.victor.headers, json=body)
    assert r.status_code == 200, r.text
    got = {(s["run_id"], s["key"]): s for s in r.json()["series"]}
    assert set(got) == {(seeded.a, "acc"), (seeded.a, "train/loss"), (seeded.b, "acc")}  # c has neither
    assert [p["value"] for p in got[(seeded.a, "acc")]["points"]] == [0.5, 0.7, 0.9]
    assert got[(seeded.a, "train/loss")]["downsampled"] is True
    body["run_ids"] = [seeded.a, seeded.foreign]
    missing = _problem(env.api.post(f"{WS}/runs/metrics/history", headers=env.alice.headers, json=body), 404)
    assert seeded.foreign in missing["detail"]
    _problem(
        env.api.post(
            f"{WS}/runs/metrics/history", headers=env.alice.headers, json={"run_ids": [], "keys": ["a"]}
        ),
        422,
    )


# -- artifacts, evaluation, compare ----------------------------------------------------------------


def test_run_artifacts_list_by_folder_and_stream_with_ranges(
    env: Env, seeded: Seeded, tmp_path: Path
) -> None:
    arts = env.artifacts(seeded.ws_id)
    root = f"mlflow/{seeded.exp_id}/{seeded.c}/artifacts"
    arts.store.put_bytes(arts.full_key(f"{root}/notes.txt"), b"0123456789")
    arts.store.put_bytes(arts.full_key(f"{root}/model/MLmodel"), b"flavors: {}\n")
    h = env.victor.headers
    top = env.api.get(f"{WS}/runs/{seeded.c}/artifacts", headers=h).json()
    assert top["root"] == root
    assert [(i["path"], i["is_dir"], i["size"]) for i in top["items"]] == [
        ("model", True, None),
        ("notes.txt", False, 10),
    ]
    sub = env.api.get(f"{WS}/runs/{seeded.c}/artifacts", headers=h, params={"path": "model"}).json()
    assert [i["path"] for i in sub["items"]] == ["model/MLmodel"]
    assert (
        env.api.get(f"{WS}/runs/{seeded.c}/artifacts", headers=h, params={"path": "none"}).json()["items"]
        == []
    )

    url = f"{WS}/runs/{seeded.c}/artifacts/content"
    whole = env.api.get(url, headers=h, params={"path": "notes.txt"})
    assert whole.status_code == 200
    assert whole.content == b"0123456789"
    part = env.api.get(url, headers={**h, "Range": "bytes=2-4"}, params={"path": "notes.txt"})
    assert part.status_code == 206
    assert part.content == b"234"
    assert part.headers["content-range"] == "bytes 2-4/10"
    _problem(env.api.get(url, headers={**h, "Range": "bytes=20-"}, params={"path": "notes.txt"}), 416)
    _problem(env.api.get(url, headers=h, params={"path": "missing.txt"}), 404)
    _problem(env.api.get(url, headers=h, params={"path": "../../other/x"}), 422)
    _problem(env.api.get(f"{WS}/runs/{seeded.c}/artifacts", headers=h, params={"path": "a/../../b"}), 422)
    _problem(
        env.api.get(f"{WS}/runs/{seeded.foreign}/artifacts/content", headers=h, params={"path": "x"}), 404
    )


def test_run_evaluation_is_its_parsed_evaluation_json_or_a_clear_404(env: Env, seeded: Seeded) -> None:
    h = env.victor.headers
    missing = _problem(env.api.get(f"{WS}/runs/{seeded.b}/evaluation", headers=h), 404)
    assert "evaluation.json" in missing["detail"]
    arts = env.artifacts(seeded.ws_id)
    evaluation = {
        "task": "classification",
        "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]},
    }
    arts.store.put_bytes(
        arts.full_key(f"mlflow/{seeded.exp_id}/{seeded.b}/artifacts/evaluation.json"),
        json.dumps(evaluation).encode(),
    )
    assert env.api.get(f"{WS}/runs/{seeded.b}/evaluation", headers=h).json() == evaluation
    arts.store.put_bytes(
        arts.full_key(f"mlflow/{seeded.exp_id}/{seeded.child}/artifacts/evaluation.json"), b"{oops"
    )
    assert (
        "not valid JSON"
        in _problem(env.api.get(f"{WS}/runs/{seeded.child}/evaluation", headers=h), 422)["detail"]
    )


def test_compare_flags_the_params_that_differ_and_ranges_metrics(env: Env, seeded: Seeded) -> None:
    body = {"run_ids": [seeded.a, seeded.b, seeded.c]}
    r = env.api.post(f"{WS}/runs/compare", headers=env.victor.headers, json=body)
    assert r.status_code == 200, r.text
    found = r.json()
    assert [x["name"] for x in found["runs"]] == ["a", "b", "c"]
    params = {p["key"]: p for p in found["params"]}
    assert params["lr"]["differs"] is True
    assert params["lr"]["values"] == {
        seeded.a: "0.1",
        seeded.b: "0.01",
        seeded.c: "0.1",
    }
    assert params["opt"]["differs"] is True
    same = env.api.post(
        f"{WS}/runs/compare", headers=env.victor.headers, json={"run_ids": [seeded.a, seeded.child]}
    ).json()
    assert {p["key"]: p["differs"] for p in same["params"]} == {"lr": False, "opt": True}
    metrics = {m["key"]: m for m in found["metrics"]}
    assert metrics["acc"]["values"][seeded.c] is None
    assert metrics["acc"]["min"] == 0.8
    assert metrics["acc"]["max"] == 0.9
    assert metrics["loss"]["values"][seeded.b] is None  # NaN
    _problem(env.api.post(f"{WS}/runs/compare", headers=env.alice.headers, json={"run_ids": [seeded.a]}), 422)
    _problem(
        env.api.post(
            f"{WS}/runs/compare", headers=env.alice.headers, json={"run_ids": [seeded.a, seeded.foreign]}
        ),
        404,
    )
