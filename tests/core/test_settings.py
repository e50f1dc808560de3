"""Settings from the environment, the instance secret, and the first administrator."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dais.core.settings import load_settings
from dais.db import Database
from dais.tenancy.auth import authenticate_password
from dais.tenancy.bootstrap import DEFAULT_WORKSPACE, ensure_admin
from dais.tenancy.models import Membership, User, Workspace
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("DAIS_") and not name.startswith("DAIS_TEST_"):
            monkeypatch.delenv(name)


def test_dais_home_places_database_artifacts_logs_and_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DAIS_HOME", str(tmp_path / "home"))
    s = load_settings()
    home = (tmp_path / "home").resolve()
    assert s.home == home
    assert s.database_url == f"sqlite:///{home / 'dais.db'}"
    assert s.artifacts_url == (home / "artifacts").as_uri()
    assert s.logs_dir == home / "logs"
    assert s.keys_dir == home / "keys"


def test_home_defaults_to_dot_dais_in_the_user_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings().home == (tmp_path / ".dais").resolve()


def test_database_and_artifact_urls_override_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAIS_HOME", str(tmp_path))
    monkeypatch.setenv("DAIS_DATABASE_URL", "postgresql://dais@db.example/dais")
    monkeypatch.setenv("DAIS_ARTIFACTS_URL", "s3://bucket/prefix")
    monkeypatch.setenv("DAIS_ARTIFACTS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    s = load_settings()
    assert s.database_url == "postgresql://dais@db.example/dais"
    assert s.artifacts_url == "s3://bucket/prefix"
    assert s.artifacts.s3_endpoint_url == "http://127.0.0.1:9000"


def test_admin_user_and_password_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().admin.user == "admin"
    assert load_settings().admin.password is None
    monkeypatch.setenv("DAIS_ADMIN_USER", "ops")
    monkeypatch.setenv("DAIS_ADMIN_PASSWORD", "s3cret-pass")
    s = load_settings()
    assert s.admin.user == "ops"
    assert s.admin.password is not None
    assert s.admin.password.get_secret_value() == "s3cret-pass"
    assert "s3cret-pass" not in repr(s)


def test_api_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAIS_API_PORT", "9999")
    monkeypatch.setenv("DAIS_API_PUBLIC_METRICS", "true")
    monkeypatch.setenv("DAIS_API_MAX_BODY_BYTES", "2048")
    s = load_settings()
    assert s.api.port == 9999
    assert s.api.public_metrics is True
    assert s.api.max_body_bytes == 2048
    assert s.api.cookie_secure is True  # secure by default


def test_secret_key_file_is_created_once_with_mode_0600(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DAIS_HOME", str(tmp_path))
    s = load_settings()
    key = s.secret_key()
    path = s.keys_dir / "secret.key"
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.keys_dir.stat().st_mode) == 0o700
    assert load_settings().secret_key() == key  # stable across restarts
    assert not list(s.keys_dir.glob("*.tmp"))


def test_secret_key_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAIS_HOME", str(tmp_path))
    monkeypatch.setenv("DAIS_SECRET_KEY", "from-env-0123456789")
    assert load_settings().secret_key() == b"from-env-0123456789"
    assert not (tmp_path / "keys" / "secret.key").exists()


def test_ensure_admin_creates_admin_and_default_workspace_once(db: Database) -> None:
    with db.session() as s:
        first = ensure_admin(s, username="ops", password="ops-password-1")
        assert first.created
        assert first.generated_password is None
    with db.session() as s:
        again = ensure_admin(s, username="ops", password="another-password")
        assert not again.created
        assert again.admin.username == "ops"
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert s.scalar(select(func.count()).select_from(Workspace)) == 1
        user = authenticate_password(s, "ops", "ops-password-1")  # the first password stays
        assert user.is_admin
        ws = s.scalar(select(Workspace).where(Workspace.slug == DEFAULT_WORKSPACE))
        assert ws is not None
        role = s.scalar(select(Membership.role).where(Membership.workspace_id == ws.id))
        assert role == "owner"


def test_ensure_admin_without_password_generates_one(db: Database) -> None:
    with db.session() as s:
        boot = ensure_admin(s, username="admin", password=None)
    assert boot.created
    assert boot.generated_password
    with db.session(write=False) as s:
        assert authenticate_password(s, "admin", boot.generated_password).username == "admin"


def test_platform_env_reproduces_the_settings_in_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from dais.core.settings import DataSettings, SecuritySettings

    original = dataclasses.replace(
        make_settings(tmp_path / "home", "sqlite:///" + str(tmp_path / "x.db")),
        security=SecuritySettings(secret_key=SecretStr("s3cret")),
        data=DataSettings(allowed_roots=[tmp_path], sample_rows=7),
    )
    for key, value in original.platform_env().items():
        monkeypatch.setenv(key, value)
    loaded = load_settings()
    assert loaded.home == original.home
    assert loaded.database_url == original.database_url
    assert loaded.artifacts_url == original.artifacts_url
    assert loaded.secret_key() == b"s3cret"
    assert loaded.data.allowed_roots == [tmp_path]
    assert loaded.data.sample_rows == 7
    assert loaded.api.cookie_secure is False
