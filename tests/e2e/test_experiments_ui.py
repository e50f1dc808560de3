"""The experiments area in the web UI: the runs table (filter with MLflow's grammar and its errors,
server-side sort, chosen columns), comparing runs (curves, parallel coordinates, param diff), a run
page whose charts follow a running run live with its evaluation charts, and the training launcher
(generated param form, an API error shown on its field, the run page it lands on) — in real
Chromium against a live server.

Runs are logged through the MLflow REST facade, as an MLflow client would log them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Actor, World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import choose, log_in, nav, shot
from tests.training.conftest import customers, register

pytestmark = pytest.mark.e2e


class Tracker:
    """An MLflow-REST client of the live server, as ``actor`` in workspace ``lab``."""

    def __init__(self, server: LiveServer, actor: Actor) -> None:
        self.http = httpx.Client(
            base_url=server.url, headers={**actor.headers, "X-MLFLOW-WORKSPACE": "lab"}, timeout=30
        )

    def call(self, path: str, body: dict[str, Any], method: str = "POST") -> Any:
        r = self.http.request(method, f"/api/2.0/mlflow/{path}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def run(
        self, exp: str, name: str, params: dict[str, Any], curve: list[float], final: dict[str, float]
    ) -> str:
        run_id: str = self.call("runs/create", {"experiment_id": exp, "run_name": name})["run"]["info"][
            "run_id"
        ]
        metrics = [{"key": "loss", "value": v, "timestamp": 1000 + i, "step": i} for i, v in enumerate(curve)]
        metrics += [{"key": k, "value": v, "timestamp": 5000, "step": 0} for k, v in final.items()]
        self.call(
            "runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": k, "value": str(v)} for k, v in params.items()],
                "metrics": metrics,
            },
        )
        return run_id


@pytest.fixture
def tracker(live_server: LiveServer, world: World) -> Iterator[Tracker]:
    """``ada`` owning workspace ``lab``, logging through the MLflow REST facade."""
    ada = world.user("ada")
    world.workspace("lab", ada)
    t = Tracker(live_server, ada)
    yield t
    t.http.close()


def test_runs_table_compare_and_a_live_run_page(page: Page, tracker: Tracker, artifacts_dir: Any) -> None:
    t = tracker
    exp = t.call("experiments/create", {"name": "churn"})["experiment_id"]
    runs = {}
    for name, lr, depth, acc in [("slow", 0.01, 3, 0.81), ("fast", 0.1, 6, 0.92), ("mid", 0.03, 6, 0.86)]:
        curve = [1.0 / (1 + lr * 40 * i) for i in range(20)]
        runs[name] = t.run(exp, name, {"lr": lr, "depth": depth}, curve, {"accuracy": acc})
        t.call("runs/update", {"run_id": runs[name], "status": "FINISHED", "end_time": 9000})
    live = t.run(exp, "live", {"lr": 0.05, "depth": 4}, [1.0, 0.8, 0.7], {})
    evaluation = {
        "task": "classification",
        "rows": 20,
        "confusion_matrix": {"labels": ["no", "yes"], "matrix": [[8, 2], [1, 9]]},
        "roc_curves": [{"label": "yes", "auc": 0.9, "fpr": [0, 0.2, 1], "tpr": [0, 0.8, 1]}],
        "feature_importance": [
            {"feature": "tenure", "importance": 0.7},
            {"feature": "spend", "importance": 0.3},
        ],
    }
    r = t.http.put(
        f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{runs['fast']}/artifacts/evaluation.json",
        content=json.dumps(evaluation).encode(),
    )
    assert r.status_code == 200, r.text

    log_in(page, "ada")
    nav(page, "Training & experiments")
    page.get_by_test_id("experiment-link").filter(has_text="churn").click()
    table = page.get_by_test_id("runs-table")
    expect(page.get_by_test_id("run-count")).to_have_text("1\u20134 of 4 runs")
    expect(table.locator("thead")).to_contain_text("accuracy")
    expect(table.locator("thead")).to_contain_text("lr")

    # A bad filter: the server's message under the box, no rows. A good one filters on the server.
    box = page.get_by_test_id("run-filter")
    box.fill("metrics.accuracy >")
    page.get_by_test_id("apply-filter").click()
    expect(page.get_by_test_id("filter-error")).to_contain_text("not valid")
    box.fill("metrics.accuracy > 0.85")
    page.get_by_test_id("apply-filter").click()
    expect(page.get_by_test_id("filter-error")).to_have_count(0)
    expect(page.get_by_test_id("run-count")).to_have_text("1\u20132 of 2 runs")
    # Sorted by the server on a metric, both ways.
    header = table.locator("th").filter(has_text=re.compile(r"^accuracy$"))
    header.click()
    expect(page).to_have_url(re.compile(r"order=metrics"))
    expect(table.get_by_test_id("run-link").first).to_have_text("fast")
    header.click()
    expect(table.get_by_test_id("run-link").first).to_have_text("mid")

    # Compare the two: curves overlaid, parallel coordinates, the params that differ highlighted.
    for i in (0, 1):
        table.locator("tbody tr.ant-table-row").nth(i).locator(".ant-checkbox-wrapper").click()
    page.get_by_test_id("compare-button").click()
    expect(page).to_have_url(re.compile(r"/experiments/compare\?runs="))
    expect(page.get_by_test_id("compare-chart-loss")).to_be_visible()
    expect(page.get_by_test_id("parallel-chart")).to_be_visible()
    expect(page.get_by_test_id("scatter-chart")).to_be_visible()
    diff = page.get_by_test_id("param-diff")
    expect(diff).to_contain_text("lr")
    expect(diff).not_to_contain_text("depth")  # both have depth 6: not a difference

    # The evaluation of a run that logged one.
    page.goto(f"/w/lab/experiments/runs/{runs['fast']}?tab=evaluation")
    expect(page.get_by_test_id("chart-confusion")).to_be_visible()
    expect(page.get_by_test_id("chart-roc")).to_be_visible()
    expect(page.get_by_test_id("chart-importance")).to_be_visible()

    # A running run: its charts follow new points without a reload.
    page.goto(f"/w/lab/experiments/runs/{live}?tab=charts")
    expect(page.get_by_test_id("charts-live")).to_be_visible()
    chart = page.get_by_test_id("metric-chart-loss")
    expect(chart).to_contain_text("0.7")
    t.call(
        "runs/log-batch",
        {"run_id": live, "metrics": [{"key": "loss", "value": 0.123, "timestamp": 2000, "step": 3}]},
    )
    expect(chart).to_contain_text("0.123")
    shot(page, artifacts_dir, "run-live-charts")


def test_the_launcher_builds_its_form_shows_api_errors_and_starts_a_run(
    page: Page, live_server: LiveServer, world: World, artifacts_dir: Any
) -> None:
    ada = world.user("ada")
    team = world.workspace("lab", ada)
    register(live_server.settings, live_server.db, team, "customers", customers(12))
    log_in(page, "ada")
    page.goto("/w/lab/experiments")
    page.get_by_test_id("train-button").click()

    choose(page, page.get_by_test_id("launch-dataset"), "customers")
    page.get_by_test_id("launch-next").click()
    choose(page, page.get_by_test_id("launch-target"), "churn")
    features = page.get_by_test_id("launch-features")
    expect(features.locator("tr").filter(has_text="plan")).to_contain_text("needs encoding")
    page.get_by_test_id("launch-next").click()
    page.get_by_test_id("algorithm-logistic_regression").click()
    expect(page.get_by_test_id("algorithm-logistic_regression")).to_have_attribute("data-active", "true")
    page.get_by_test_id("launch-next").click()
    # The param form comes from the preset's JSON schema.
    form = page.get_by_test_id("params-form")
    expect(form.get_by_label("C", exact=True)).to_have_value("1")
    # 20 folds of 12 rows: the API refuses before anything runs, and says so on the field.
    page.get_by_text("K-fold", exact=True).click()
    page.get_by_label("Folds").fill("20")
    page.get_by_test_id("launch-next").click()
    page.get_by_label("Run name").fill("first-lr")
    page.get_by_test_id("launch-submit").click()
    expect(page.get_by_test_id("inline-error")).to_contain_text("folds")
    expect(page.locator(".ant-form-item-explain-error").filter(has_text="folds")).to_be_visible()
    page.get_by_label("Folds").fill("3")
    page.get_by_test_id("launch-next").click()
    page.get_by_test_id("launch-submit").click()
    # The run exists at once (scheduled: no worker here) with the chosen params.
    expect(page).to_have_url(re.compile(r"/experiments/runs/[0-9a-f]{32}"))
    expect(page.get_by_test_id("run-name")).to_contain_text("first-lr")
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", re.compile("SCHEDULED|RUNNING")
    )
    shot(page, artifacts_dir, "launched-run")
    # Its job asks for what the form said.
    run_id = page.url.split("/runs/")[1].split("?")[0]
    ws = f"{live_server.url}/api/v1/workspaces/lab"
    job_id = httpx.get(f"{ws}/runs/{run_id}", headers=ada.headers, timeout=30).json()["job_id"]
    spec = httpx.get(f"{ws}/jobs/{job_id}", headers=ada.headers, timeout=30).json()["spec"]
    assert spec["split"]["k"] == 3
    assert spec["algorithm"] == "logistic_regression"
    assert spec["target"] == "churn"
