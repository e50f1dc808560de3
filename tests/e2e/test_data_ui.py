"""The data area in the web UI: a file connection, the registration wizard, the dataset page and the
media gallery, in real Chromium against a live server and a job worker."""

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
from PIL import Image
from playwright.sync_api import Page, expect

from dais.jobs.worker import JobWorker
from tests.conftest import Actor, World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import choose, log_in, nav, shot

pytestmark = pytest.mark.e2e

# The first preview in a fresh server process loads the readers (pyarrow, CSV sniffing): seconds,
# more on a busy CI machine. Later ones answer in milliseconds.
PREVIEW_MS = 30_000


@pytest.fixture(autouse=True)
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder file connections may read: the server's (and its jobs') allowed data root.

    Autouse, so the variable is set before the live server builds its settings.
    """
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("DAIS_DATA_ALLOWED_ROOTS", json.dumps([str(root)]))
    return root


def _write_sales(root: Path) -> None:
    folder = root / "sales"
    folder.mkdir()
    regions = ["north", "south", "east", "west"]
    lines = ["id,region,amount,returned"]
    for i in range(40):
        amount = "" if i % 10 == 7 else f"{(i * 37) % 500 + 0.5:.2f}"
        lines.append(f"{i},{regions[i % 4]},{amount},{'true' if i % 5 == 0 else 'false'}")
    (folder / "sales.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_digits(root: Path) -> None:
    for label, colour in (("0", (200, 40, 40)), ("1", (40, 160, 60)), ("2", (40, 80, 200))):
        folder = root / "digits" / label
        folder.mkdir(parents=True)
        for k in range(3):
            img = Image.new("RGB", (48, 32), colour)
            for x in range(8 + k * 8, 16 + k * 8):
                for y in range(8, 24):
                    img.putpixel((x, y), (255, 255, 255))
            img.save(folder / f"digit-{label}-{k}.png")


def _api(server: LiveServer, actor: Actor, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = httpx.request(
        method, f"{server.url}/api/v1/workspaces/lab/{path}", json=body, headers=actor.headers, timeout=30
    )
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _wait_job(server: LiveServer, actor: Actor, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = _api(server, actor, "GET", f"jobs/{job_id}")
        if job["state"] in {"succeeded", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
        time.sleep(0.1)


def test_connect_a_folder_register_a_csv_and_see_its_sample_and_stats(
    page: Page,
    live_server: LiveServer,
    job_worker: JobWorker,
    world: World,
    data_root: Path,
    artifacts_dir: Path,
) -> None:
    ada = world.user("ada")
    world.workspace("lab", ada)
    _write_sales(data_root)
    log_in(page, "ada")

    nav(page, "Data")
    expect(page).to_have_url(re.compile(r"/w/lab/data$"))
    expect(page.locator(".ant-empty")).to_contain_text("No datasets registered in this workspace yet.")

    # A connection: the form is drawn from the file kind's config schema.
    page.get_by_role("tab", name="Connections").click()
    expect(page).to_have_url(re.compile(r"/w/lab/data/connections$"))
    expect(page.locator(".ant-empty")).to_contain_text("No connections yet")
    page.get_by_role("button", name="New connection").first.click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_label("Name").fill("files")
    choose(page, page.get_by_test_id("connection-kind"), "file")
    expect(drawer).to_contain_text("inside the allowed roots")  # the field's description, as help
    drawer.get_by_label("Root").fill("/etc")
    drawer.get_by_role("button", name="Test connection").click()
    expect(drawer.get_by_test_id("inline-error")).to_contain_text("allowed")
    drawer.get_by_label("Root").fill(str(data_root))
    drawer.get_by_role("button", name="Test connection").click()
    expect(drawer.get_by_test_id("test-result")).to_contain_text(re.compile(r"\d+ ms"), timeout=PREVIEW_MS)
    shot(page, artifacts_dir, "connection-form")
    drawer.get_by_role("button", name="Create connection").click()
    row = page.locator("tr.ant-table-row").filter(has_text="files")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("health")).to_have_attribute("data-health", "unknown")
    row.get_by_role("button", name="Test files").click()
    expect(row.get_by_test_id("health")).to_have_attribute("data-health", "ok")
    shot(page, artifacts_dir, "connections-list")

    # Browse it, and start the wizard from the folder found there.
    row.get_by_role("button", name="Browse files").click()
    browse = page.get_by_role("dialog")
    browse.get_by_test_id("browse-folder").filter(has_text="sales").click()
    expect(browse.get_by_test_id("browse-table")).to_contain_text("sales.csv")
    shot(page, artifacts_dir, "connection-browse")
    browse.locator("tr").filter(has_text="sales.csv").get_by_role("link", name="Register").click()

    # The wizard: source (filled from the browser) -> preview -> schema -> partitions -> save.
    expect(page).to_have_url(re.compile(r"/w/lab/data/register\?"))
    expect(page.get_by_test_id("wizard-path")).to_have_value("sales/sales.csv")
    page.get_by_test_id("wizard-preview").click()
    grid = page.get_by_test_id("step-preview").get_by_test_id("sample-grid")
    expect(grid).to_contain_text("north", timeout=PREVIEW_MS)
    expect(page.get_by_test_id("preview-summary")).to_contain_text("CSV")
    shot(page, artifacts_dir, "wizard-preview")
    page.get_by_role("button", name="Next: schema").click()
    expect(page.get_by_test_id("schema-table")).to_contain_text("amount")
    shot(page, artifacts_dir, "wizard-schema")
    page.get_by_role("button", name="Next: partitions").click()
    expect(page.get_by_test_id("step-partitions")).to_contain_text("No partitions found")
    page.get_by_role("button", name="Next: save").click()
    expect(page.get_by_test_id("dataset-name")).to_have_value("sales")
    page.get_by_test_id("wizard-register").click()

    # The job's progress, then the dataset page.
    expect(page).to_have_url(re.compile(r"/w/lab/data/datasets/sales$"), timeout=30_000)
    expect(page.get_by_test_id("sample-grid")).to_contain_text("south")
    rows = page.get_by_test_id("sample-grid").locator("tbody tr.ant-table-row")
    expect(rows).to_have_count(20)  # the first page of the 40 sample rows
    shot(page, artifacts_dir, "dataset-sample")
    page.get_by_role("tab", name="Stats").click()
    expect(page.get_by_test_id("null-ratios").locator("canvas")).to_be_visible()
    amount = page.locator('[data-testid="column-stats"][data-column="amount"]')
    expect(amount.get_by_test_id("histogram").locator("canvas")).to_be_visible()
    expect(amount).to_contain_text("Nulls 10%")
    region = page.locator('[data-testid="column-stats"][data-column="region"]')
    expect(region.get_by_test_id("top-values").locator("canvas")).to_be_visible()
    shot(page, artifacts_dir, "dataset-stats")
    page.get_by_role("tab", name="Schema").click()
    expect(page.get_by_test_id("schema-table")).to_contain_text("region")
    page.get_by_role("tab", name="Versions").click()
    expect(page.get_by_test_id("versions-table")).to_contain_text("v1")
    shot(page, artifacts_dir, "dataset-versions")

    # The list shows it, with its size, and filters by format.
    nav(page, "Data")
    table = page.get_by_test_id("datasets-table")
    expect(table).to_contain_text("sales")
    expect(table).to_contain_text("CSV")
    shot(page, artifacts_dir, "datasets-list")


def test_a_media_dataset_shows_a_gallery_with_labels(
    page: Page,
    live_server: LiveServer,
    job_worker: JobWorker,
    world: World,
    data_root: Path,
    artifacts_dir: Path,
) -> None:
    ada = world.user("ada")
    world.workspace("lab", ada)
    _write_digits(data_root)
    _api(
        live_server,
        ada,
        "POST",
        "connections",
        {"name": "files", "kind": "file", "config": {"root": str(data_root)}},
    )
    submitted = _api(
        live_server,
        ada,
        "POST",
        "datasets",
        {"name": "digits", "connection": "files", "source": {"path": "digits", "format": "images"}},
    )
    job = _wait_job(live_server, ada, submitted["job"]["id"])
    assert job["state"] == "succeeded", job.get("error")

    log_in(page, "ada")
    page.goto("/w/lab/data/datasets/digits")
    gallery = page.get_by_test_id("gallery")
    expect(gallery.get_by_test_id("gallery-item")).to_have_count(9)
    thumbs = gallery.get_by_test_id("thumbnail")
    expect(thumbs.first).to_be_visible()
    # Thumbnails came through the authenticated API (the browser's cookie), as real images.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=thumbnail]')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(page, artifacts_dir, "dataset-gallery")

    choose(page, page.get_by_test_id("label-filter"), "1")
    expect(gallery.get_by_test_id("gallery-item")).to_have_count(3)
    expect(gallery).to_contain_text("digit-1-0.png")
    gallery.get_by_test_id("gallery-item").first.click()
    viewer = page.get_by_test_id("media-viewer")
    expect(viewer).to_be_visible()
    expect(viewer).to_contain_text("digits/1/digit-1-0.png")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=media-full]');"
        " return i && i.complete && i.naturalWidth === 48 }"
    )
    page.screenshot(path=artifacts_dir / "dataset-media-viewer.png", animations="disabled")


def test_secrets_show_as_set_and_partitions_are_pinned_in_the_wizard(
    page: Page,
    live_server: LiveServer,
    job_worker: JobWorker,
    world: World,
    data_root: Path,
    artifacts_dir: Path,
) -> None:
    ada = world.user("ada")
    world.workspace("lab", ada)
    for day, n in (("2024-01-01", 5), ("2024-01-02", 7)):
        folder = data_root / "events" / f"dt={day}"
        folder.mkdir(parents=True)
        pq.write_table(
            pa.table({"user": list(range(n)), "score": [i * 1.5 for i in range(n)]}),
            folder / "part-0.parquet",
        )
    _api(
        live_server,
        ada,
        "POST",
        "connections",
        {"name": "files", "kind": "file", "config": {"root": str(data_root)}},
    )
    _api(
        live_server,
        ada,
        "POST",
        "connections",
        {
            "name": "warehouse",
            "kind": "sql",
            "config": {"url": f"sqlite:///{data_root / 'w.db'}"},
            "secrets": {"password": "hunter2-secret"},
        },
    )
    log_in(page, "ada")

    # A stored credential shows as "set"; its value never reaches the page.
    page.goto("/w/lab/data/connections")
    page.get_by_role("button", name="Edit warehouse").click()
    drawer = page.get_by_role("dialog")
    expect(drawer.get_by_test_id("secret-set-password")).to_be_visible()
    expect(drawer.get_by_label("Password")).to_have_value("")
    drawer.get_by_label("Password").scroll_into_view_if_needed()
    expect(drawer.get_by_label("Url")).to_have_value(re.compile(r"^sqlite:///.*w\.db$"))
    assert "hunter2-secret" not in page.content()
    page.screenshot(path=artifacts_dir / "connection-edit-secrets.png", animations="disabled")
    drawer.get_by_role("button", name="Cancel").click()

    # The wizard lists the partitions; a dynamic expression that matches nothing shows the API's message.
    page.goto("/w/lab/data/register?connection=files&path=events")
    page.get_by_test_id("wizard-preview").click()
    expect(page.get_by_test_id("preview-summary")).to_contain_text("2 (hive)", timeout=PREVIEW_MS)
    page.get_by_role("button", name="Next: schema").click()
    expect(page.get_by_test_id("schema-table")).to_contain_text("partition")
    page.get_by_role("button", name="Next: partitions").click()
    step = page.get_by_test_id("step-partitions")
    expect(step.get_by_test_id("partitions-table")).to_contain_text("dt=2024-01-02")
    step.get_by_text("A dynamic partition").click()
    expect(step.get_by_test_id("partition-expression")).to_have_value("dt=${ds}")
    step.get_by_role("button", name="Check").click()
    expect(step.get_by_test_id("inline-error")).to_contain_text("matches no partition", timeout=PREVIEW_MS)
    shot(page, artifacts_dir, "wizard-partitions-dynamic")
    step.get_by_text("Pin some partitions").click()
    step.locator("tr").filter(has_text="dt=2024-01-02").locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Next: save").click()
    expect(page.get_by_test_id("step-save")).to_contain_text("dt=2024-01-02")
    page.get_by_test_id("wizard-register").click()
    expect(page).to_have_url(re.compile(r"/w/lab/data/datasets/events$"), timeout=30_000)
    page.get_by_role("tab", name="Partitions").click()
    expect(page.get_by_test_id("partitions-table")).to_contain_text("dt=2024-01-01")
    expect(page.get_by_text("Reads 1 pinned partition")).to_be_visible()
    shot(page, artifacts_dir, "dataset-partitions")

    # A file sent from the browser (in chunks) to the workspace's uploads, then previewed.
    upload = data_root.parent / "scores.csv"
    upload.write_text("name,score\nada,3\nbob,5\n", encoding="utf-8")
    page.goto("/w/lab/data/register")
    choose(page, page.get_by_test_id("wizard-connection"), "Workspace uploads")
    page.locator("input[type=file]").set_input_files(upload)
    expect(page.get_by_test_id("wizard-path")).to_have_value(re.compile(r"^uploads/.+/scores\.csv$"))
    page.get_by_test_id("wizard-preview").click()
    expect(page.get_by_test_id("step-preview").get_by_test_id("sample-grid")).to_contain_text(
        "bob", timeout=PREVIEW_MS
    )
