"""Fixtures for the pipelines API: settings with an allowed data root, an app and a client on them, a
worker that runs data and pipeline jobs, and a team of users in two workspaces."""

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
from tests.jobs.conftest import running_worker
from tests.pipelines.api.helpers import Team


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def pipe_settings(settings: Settings, data_root: Path) -> Settings:
    return dataclasses.replace(
        settings, data=DataSettings(allowed_roots=[data_root], source_timeout_s=20, preview_timeout_s=20)
    )


@pytest.fixture
def pipe_app(pipe_settings: Settings, db: Database) -> FastAPI:
    return create_app(pipe_settings, db=db)


@pytest.fixture
def api(pipe_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(pipe_app) as c:
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
def worker(pipe_settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running data and pipeline jobs with the platform's settings."""
    with running_worker(pipe_settings, db, open_store(pipe_settings)):
        yield
