"""The pipelines area in the web UI: the list, the canvas editor (palette, typed ports, the node form
with column pickers fed by validation, errors on nodes), saving versions, a debug run with live node
colours and per-node sample and statistics, and the comparison of two runs — in real Chromium against
a live server and a job worker."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Locator, Page, expect

from dais.jobs.worker import JobWorker
from tests.conftest import Actor, World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in, nav, shot

pytestmark = pytest.mark.e2e

# A run's first job in a fresh worker loads the engine (DuckDB, Ibis): seconds on a busy machine.
RUN_MS = 60_000


@pytest.fixture(autouse=True)
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder file connections may read (set before the live server builds its settings)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DAIS_DATA_ALLOWED_ROOTS", json.dumps([str(root)]))
    return root


def _api(server: LiveServer, actor: Actor, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = httpx.request(
        method, f"{server.url}/api/v1/workspaces/lab/{path}", json=body, headers=actor.headers, timeout=30
    )
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _register_people(server: LiveServer, actor: Actor, root: Path) -> None:
    rows = 60
    table = pa.table(
        {
            "id": list(range(rows)),
            "age": [10 + (i * 7) % 60 for i in range(rows)],
            "income": [1000.0 + (i * 37) % 500 for i in range(rows)],
            "city": [["paris", "lyon", "nice"][i % 3] for i in range(rows)],
        }
    )
    pq.write_table(table, root / "people.parquet")
    _api(
        server, actor, "POST", "connections", {"name": "files", "kind": "file", "config": {"root": str(root)}}
    )
    submitted = _api(
        server,
        actor,
        "POST",
        "datasets",
        {"name": "people", "connection": "files", "source": {"path": "people.parquet"}},
    )
    job_id = submitted["job"]["id"]
    deadline = time.monotonic() + 60
    while True:
        job = _api(server, actor, "GET", f"jobs/{job_id}")
        if job["state"] in {"succeeded", "failed", "cancelled"}:
            assert job["state"] == "succeeded", job["error"]
            return
        assert time.monotonic() < deadline, f"registration job still {job['state']}"
        time.sleep(0.1)


def _graph() -> dict[str, Any]:
    def node(node_id: str, operator: str, x: int, y: int, **params: Any) -> dict[str, Any]:
        return {"id": node_id, "operator": operator, "params": params, "position": {"x": x, "y": y}}

    def edge(source: str, target: str) -> dict[str, Any]:
        return {"source": source, "source_port": "out", "target": target, "target_port": "in"}

    return {
        "nodes": [
            node("source", "source", 0, 80, dataset="people"),
            node("adults", "filter", 280, 80, expression="age >= ${min_age}"),
            node("scale", "scale", 560, 80, columns=["income"]),
            node("profile", "profile", 560, 260),
        ],
        "edges": [edge("source", "adults"), edge("adults", "scale"), edge("adults", "profile")],
        "variables": [{"name": "min_age", "default": "18", "description": "Youngest age kept"}],
    }


def _assert_last_run_succeeded(server: LiveServer, actor: Actor) -> None:
    """The newest run succeeded (else the failure names the nodes and their errors)."""
    runs = _api(server, actor, "GET", "pipelines/people-features/runs")
    run = _api(server, actor, "GET", f"pipelines/people-features/runs/{runs['items'][0]['id']}")
    nodes = [(n["node_id"], n["status"], n["error"]) for n in run["nodes"]]
    assert run["status"] == "succeeded", f"{run['error']}: {nodes}"


def _node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id(f"node-{node_id}")


def _handle(page: Page, node_id: str, port: str, kind: str) -> Locator:
    return page.locator(f'.react-flow__handle.{kind}[data-nodeid="{node_id}"][data-handleid="{port}"]')


def _connect(page: Page, source: Locator, target: Locator) -> None:
    """Drag from one handle to another with the mouse, as a person does."""
    a = source.bounding_box()
    b = target.bounding_box()
    assert a is not None
    assert b is not None
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def test_build_a_pipeline_on_the_canvas_debug_it_and_compare_runs(
    page: Page,
    live_server: LiveServer,
    job_worker: JobWorker,
    world: World,
    data_root: Path,
    artifacts_dir: Path,
) -> None:
    ada = world.user("ada")
    world.workspace("lab", ada)
    _register_people(live_server, ada, data_root)
    log_in(page, "ada")

    # The empty list, then a pipeline made through the API appears in it.
    nav(page, "Pipelines")
    expect(page).to_have_url(re.compile(r"/w/lab/pipelines$"))
    expect(page.locator(".ant-empty")).to_contain_text("No pipelines yet")
    _api(
        live_server,
        ada,
        "POST",
        "pipelines",
        {"name": "people-features", "graph": _graph(), "message": "first"},
    )
    page.reload()
    expect(page.get_by_test_id("last-run-people-features").or_(page.get_by_text("never run"))).to_be_visible()
    page.get_by_test_id("pipeline-link").filter(has_text="people-features").click()

    # The editor: the nodes with their ports, checked valid.
    expect(page).to_have_url(re.compile(r"/w/lab/pipelines/people-features"))
    for node_id in ("source", "adults", "scale", "profile"):
        expect(_node(page, node_id)).to_be_visible()
    expect(page.get_by_test_id("validation-state")).to_have_text("valid")
    expect(page.locator(".react-flow__edge")).to_have_count(3)

    # The palette: grouped by family and searchable; an operator dragged onto the canvas.
    palette = page.get_by_test_id("palette")
    expect(palette.get_by_test_id("family-scaling")).to_contain_text("Scale")
    palette.get_by_label("Search operators").fill("select col")
    expect(palette.get_by_test_id("palette-select")).to_be_visible()
    expect(palette.get_by_test_id("palette-scale")).to_have_count(0)
    canvas = page.get_by_test_id("canvas")
    box = canvas.bounding_box()
    assert box
    palette.get_by_test_id("palette-select").drag_to(
        canvas, target_position={"x": box["width"] * 0.55, "y": box["height"] * 0.8}
    )
    palette.get_by_label("Search operators").fill("")
    expect(_node(page, "select")).to_be_visible()
    # Unconnected, without columns: the node is marked, its form says why.
    expect(_node(page, "select")).to_have_attribute("data-invalid", "true")
    form = page.get_by_test_id("node-form")
    expect(form).to_contain_text("Select columns")

    page.locator(".react-flow__controls-fitview").click()
    # A table port refuses a fitted transform: no edge is made.
    _connect(page, _handle(page, "scale", "transform", "source"), _handle(page, "select", "in", "target"))
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    # A table to a table connects; the column picker then offers the columns inferred for it.
    _connect(page, _handle(page, "scale", "out", "source"), _handle(page, "select", "in", "target"))
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    _node(page, "select").click()
    field = form.locator('[data-field="columns"]')
    expect(field).to_contain_text("required", ignore_case=True)
    expect(page.get_by_test_id("validation-state")).to_have_text("1 error")
    _node(page, "select").hover()
    expect(page.get_by_test_id("node-tooltip-select")).to_be_visible()
    shot(page, artifacts_dir, "pipelines-editor-error")

    field.locator(".ant-select").click()
    dropdown = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    for column in ("id", "income", "city"):
        dropdown.locator(".ant-select-item-option").filter(has_text=re.compile(rf"^{column}")).first.click()
    page.keyboard.press("Escape")
    expect(_node(page, "select")).to_have_attribute("data-invalid", "false")
    expect(page.get_by_test_id("validation-state")).to_have_text("valid")
    shot(page, artifacts_dir, "pipelines-editor-form")

    # The variables drawer lists the pipeline's variables with their defaults.
    page.get_by_role("button", name=re.compile("Variables")).click()
    drawer = page.get_by_role("dialog")
    expect(drawer.get_by_label("Variable name")).to_have_value("min_age")
    expect(drawer.get_by_label("Default value")).to_have_value("18")
    drawer.get_by_role("button", name="Close").click()

    # Save a new version with a message.
    expect(page.get_by_test_id("unsaved")).to_be_visible()
    page.get_by_test_id("save-button").click()
    page.get_by_label("Version message").fill("keep three columns")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("unsaved")).to_have_count(0)

    # A debug run on a sample (the palette folded away for room): node colours follow the run; a
    # node's sample and statistics.
    page.get_by_role("button", name="Hide the operators").click()
    expect(palette).to_have_count(0)
    page.get_by_test_id("debug-button").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Rows per source").fill("40")
    dialog.get_by_role("button", name="Debug", exact=True).click()
    expect(page.get_by_test_id("run-state")).to_contain_text(re.compile("succeeded|failed"), timeout=RUN_MS)
    _assert_last_run_succeeded(live_server, ada)
    for node_id in ("source", "adults", "scale", "select", "profile"):
        expect(_node(page, node_id)).to_have_attribute("data-status", re.compile("succeeded|cached"))
    _node(page, "select").click()
    panel = page.get_by_test_id("node-panel")
    expect(panel.get_by_test_id("sample-table")).to_contain_text("income")
    panel.get_by_role("tab", name="Log").click()
    panel.get_by_role("tab", name="Statistics").click()
    expect(panel.get_by_test_id("histogram").first.locator("canvas")).to_be_visible()
    _node(page, "profile").click()
    panel.get_by_role("tab", name="Statistics").click()
    expect(panel.get_by_test_id("node-stats")).to_contain_text("Statistics report")
    expect(panel.locator('[data-testid="stats-column"][data-column="age"]')).to_be_visible()
    shot(page, artifacts_dir, "pipelines-debug-run")

    # A second run with another variable value, then both compared side by side.
    page.get_by_test_id("run-button").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox").first.fill("40")
    dialog.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("run-state")).to_contain_text("full run", timeout=RUN_MS)
    expect(page.get_by_test_id("run-state")).to_contain_text(re.compile("succeeded|failed"), timeout=RUN_MS)
    _assert_last_run_succeeded(live_server, ada)
    # A run whose filter fails: that node turns red with its error, the nodes after it are skipped.
    page.get_by_test_id("debug-button").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox").first.fill("no_such_column")
    dialog.get_by_role("button", name="Debug", exact=True).click()
    expect(_node(page, "adults")).to_have_attribute("data-status", "failed", timeout=RUN_MS)
    expect(_node(page, "scale")).to_have_attribute("data-status", "skipped")
    _node(page, "adults").click()
    expect(panel.get_by_test_id("panel-status")).to_have_text("failed")
    _node(page, "adults").hover()
    expect(page.get_by_test_id("node-tooltip-adults")).to_contain_text("no_such_column")
    shot(page, artifacts_dir, "pipelines-failed-run")

    page.get_by_test_id("runs-button").click()
    drawer = page.get_by_role("dialog")
    boxes = drawer.get_by_role("checkbox")
    expect(boxes).to_have_count(3)
    boxes.nth(0).check()
    boxes.nth(1).check()
    drawer.get_by_role("button", name=re.compile("Compare")).click()
    expect(page).to_have_url(re.compile(r"/compare\?a="))
    expect(page.get_by_test_id("compare-run-a")).to_be_visible()
    expect(page.get_by_test_id("compare-node-adults")).to_be_visible()
    shot(page, artifacts_dir, "pipelines-compare")

    # Version history: version 1 loads without the select node.
    page.get_by_role("link", name="people-features").click()
    page.get_by_test_id("versions-button").click()
    page.get_by_test_id("version-1").get_by_role("button", name="Load").click()
    expect(_node(page, "select")).to_have_count(0)
    expect(page.get_by_test_id("unsaved")).to_be_visible()

    # Leaving with unsaved changes asks first; the list then shows the last run.
    nav(page, "Pipelines")
    page.locator(".ant-modal-confirm").get_by_role("button", name="Leave").click()
    expect(page.get_by_test_id("last-run-people-features")).to_contain_text("failed")
    shot(page, artifacts_dir, "pipelines-list")


def test_every_operator_gets_a_form_and_an_unknown_pipeline_says_so(
    page: Page, live_server: LiveServer, world: World, artifacts_dir: Path
) -> None:
    ada = world.user("ada")
    world.user("vic")
    world.workspace("lab", ada, members={"vic": "viewer"})
    _api(live_server, ada, "POST", "pipelines", {"name": "scratch"})
    operators = httpx.get(f"{live_server.url}/api/v1/operators", headers=ada.headers, timeout=30).json()
    log_in(page, "ada")

    page.goto("/w/lab/pipelines/scratch")
    expect(page.get_by_test_id("canvas-empty")).to_be_visible()
    palette = page.get_by_test_id("palette")
    form = page.get_by_test_id("node-form")
    for op in operators:
        palette.get_by_label("Search operators").fill(op["title"])
        palette.get_by_role("button", name=f"Add {op['title']}", exact=True).click()
        expect(form).to_contain_text(op["title"])
        expect(form).to_contain_text(op["id"])
        if op["id"] == "aggregate":  # lists of small objects get their own rows
            form.get_by_test_id("add-aggregations").click()
            expect(form.get_by_label("Function")).to_be_visible()
    expect(page.locator(".react-flow__node")).to_have_count(len(operators))
    shot(page, artifacts_dir, "pipelines-all-operators")

    page.goto("/w/lab/pipelines/nope")
    expect(page.get_by_test_id("error-detail")).to_contain_text("nope")

    # A viewer reads the pipeline but has no palette and no save or run buttons.
    page.context.clear_cookies()
    log_in(page, "vic")
    page.goto("/w/lab/pipelines/scratch")
    expect(page.get_by_test_id("canvas-empty")).to_contain_text("no nodes yet")
    expect(page.get_by_test_id("palette")).to_have_count(0)
    expect(page.get_by_test_id("run-button")).to_have_count(0)
    expect(page.get_by_test_id("save-button")).to_have_count(0)
