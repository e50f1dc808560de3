"""Fixtures for the data domain's API, job and upload tests: settings with an allowed data root, an
app and a client on them, a worker that runs data jobs, a team of users in two workspaces, and a
source that never answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dais.app import create_app
from dais.core.settings import DataSettings, Settings
from dais.db import Database
from dais.storage import open_store
from tests.conftest import World
from tests.data.api.helpers import HangingServer, Team
from tests.jobs.conftest import running_worker


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """The folder file connections may read (the admin's allow-list)."""
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def data_settings(settings: Settings, data_root: Path) -> Settings:
    return dataclasses.replace(
        settings,
        data=DataSettings(allowed_roots=[data_root], source_timeout_s=10, preview_timeout_s=10),
    )


@pytest.fixture
def data_app(data_settings: Settings, db: Database) -> FastAPI:
    return create_app(data_settings, db=db)


@pytest.fixture
def api(data_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(data_app) as c:
        yield c


@pytest.fixture
def team(world: World) -> Team:
    alice = world.user("alice")
    victor = world.user("victor")
    eve = world.user("eve")
    world.workspace("team", alice, members={"victor": "viewer"})
    world.workspace("other", eve)
    return Team(alice, victor, eve)


@pytest.fixture
def data_worker(data_settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running data jobs with the platform's settings."""
    with running_worker(data_settings, db, open_store(data_settings)):
        yield


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()
