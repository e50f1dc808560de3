"""SDK fixtures: a live server, and the environment cleared of any profile or server settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.client.live import serve_in_thread


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DAIS_URL/DAIS_TOKEN/DAIS_PROFILE from outside; profiles in a file of this test's own."""
    for name in ("DAIS_URL", "DAIS_TOKEN", "DAIS_PROFILE", "DAIS_HOME"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("DAIS_CONFIG", str(path))
    return path


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    """The base URL of a real API server over this test's database."""
    with serve_in_thread(app) as url:
        yield url
