"""Browser-test fixtures: a real API server serving the built web UI, a job worker, and Debian's Chromium.

The server runs uvicorn in a background thread on a free loopback port, on the test's own database.
Chromium is the system one (``/usr/bin/chromium``); the tests never download a browser.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dais.app import create_app
from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.worker import JobWorker
from dais.storage import open_store
from tests.conftest import make_settings
from tests.jobs.conftest import running_worker

# Assertions wait longer than Playwright's 5 s default: two test processes share the machine.
expect.set_options(timeout=15_000)

REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    db: Database
    settings: Settings


@pytest.fixture
def live_server(tmp_path: Path, db_url: str, db: Database) -> Iterator[LiveServer]:
    """The API server with the built UI at ``/``, as users run it (Secure cookies included)."""
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"The web UI is not built ({WEB_DIST} is missing): run `make web` first.")
    port = _free_port()
    settings = make_settings(tmp_path / "home-e2e", db_url, host="127.0.0.1", port=port)
    # Chromium treats http://127.0.0.1 as a secure context, so the Secure cookies users get work here.
    settings = dataclasses.replace(settings, api=settings.api.model_copy(update={"cookie_secure": True}))
    app = create_app(settings, db=db, web_dist=WEB_DIST)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="dais-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("The API server did not start for the browser tests.")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def job_worker(live_server: LiveServer) -> Iterator[JobWorker]:
    """A job worker beside the server, on its database and artifact store (4 CPUs, 8 GiB, 4 slots)."""
    store = open_store(live_server.settings)
    with running_worker(
        live_server.settings, live_server.db, store, name="worker-1", cpus=4.0, memory_mb=8192, slots=4
    ) as worker:
        yield worker


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `make chromium` (apt-get install chromium).")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 860}, reduced_motion="reduce"
    )
    # Generous: the suite runs two test processes, so a page may wait on a busy machine.
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    context.close()
