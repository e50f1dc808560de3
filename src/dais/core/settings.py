"""Settings, one pydantic-settings model per subsystem, all under the ``DAIS_`` prefix.

``DAIS_HOME`` (default ``~/.dais``) holds the SQLite database, artifacts, logs and keys; the other
models derive their defaults from it, and each can be overridden on its own
(``DAIS_DATABASE_URL``, ``DAIS_ARTIFACTS_URL``, ...).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class HomeSettings(BaseSettings):
    """Where the embedded default keeps its state."""

    model_config = SettingsConfigDict(env_prefix="DAIS_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path("~/.dais").expanduser())

    def resolved(self) -> Path:
        return self.home.expanduser().resolve()


class DatabaseSettings(BaseSettings):
    """The metadata database: SQLite in ``DAIS_HOME`` by default, PostgreSQL in production."""

    model_config = SettingsConfigDict(env_prefix="DAIS_DATABASE_", extra="ignore")

    url: str | None = None
    echo: bool = False
    sqlite_busy_timeout_s: float = 30.0
    pool_size: int = 10


class ArtifactSettings(BaseSettings):
    """The artifact store: a local folder by default, S3 (or any S3-compatible server) by URL."""

    model_config = SettingsConfigDict(env_prefix="DAIS_ARTIFACTS_", extra="ignore")

    url: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str | None = None


class ApiSettings(BaseSettings):
    """The HTTP API server."""

    model_config = SettingsConfigDict(env_prefix="DAIS_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 50 * 1024 * 1024 * 1024
    cookie_secure: bool = True
    session_ttl_hours: float = 12.0
    login_link_ttl_minutes: float = 15.0
    public_metrics: bool = False

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class AdminSettings(BaseSettings):
    """The first administrator, for unattended set-up (the way Grafana's admin password works)."""

    model_config = SettingsConfigDict(env_prefix="DAIS_ADMIN_", extra="ignore")

    user: str = "admin"
    password: SecretStr | None = None
    email: str | None = None


class SecuritySettings(BaseSettings):
    """Keys: a secret used to sign cookies/CSRF values and to encrypt credentials at rest."""

    model_config = SettingsConfigDict(env_prefix="DAIS_", extra="ignore")

    secret_key: SecretStr | None = None


class LogSettings(BaseSettings):
    """Structured logs to stderr and to ``DAIS_HOME/logs``."""

    model_config = SettingsConfigDict(env_prefix="DAIS_LOG_", extra="ignore")

    level: str = "INFO"
    format: Literal["json", "text"] = "json"
    to_file: bool = True


class JobsSettings(BaseSettings):
    """Workers and the jobs they run."""

    model_config = SettingsConfigDict(env_prefix="DAIS_JOBS_", extra="ignore")

    workers: int = Field(default=1, ge=0, le=64, description="Worker processes `dais up` starts.")
    slots: int = Field(default=4, ge=1, le=1024, description="Jobs one worker runs at once.")
    prewarm: bool = Field(
        default=True,
        description="Start the job launchers of heavy kinds (pipelines, data) when a worker starts.",
    )
    # Folders a `script` job may use as its working directory (an admin's allow-list).
    allowed_roots: list[Path] = Field(default_factory=list)


class DataSettings(BaseSettings):
    """Data sources: which local folders may be read, and how much a sample may hold."""

    model_config = SettingsConfigDict(env_prefix="DAIS_DATA_", extra="ignore")

    # Folders (local disks, NFS mounts) a `file` connection may read: an admin's allow-list.
    # Empty means no `file` connection can be created.
    allowed_roots: list[Path] = Field(default_factory=list)
    sample_rows: int = Field(default=100, ge=1, le=10_000, description="Rows kept as a dataset's sample.")
    sample_max_bytes: int = Field(default=1024 * 1024, ge=1024, description="Byte cap on a kept sample.")
    source_timeout_s: float = Field(default=20.0, gt=0, description="Longest wait on a source call.")
    preview_timeout_s: float = Field(default=30.0, gt=0, description="Longest an interactive preview runs.")


@dataclass(frozen=True)
class Settings:
    """All subsystem settings together, resolved against one home directory."""

    home: Path
    database: DatabaseSettings
    artifacts: ArtifactSettings
    api: ApiSettings
    admin: AdminSettings
    security: SecuritySettings
    log: LogSettings
    jobs: JobsSettings = field(default_factory=JobsSettings)
    data: DataSettings = field(default_factory=DataSettings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.home / 'dais.db'}"

    @property
    def artifacts_url(self) -> str:
        return self.artifacts.url or (self.home / "artifacts").as_uri()

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def platform_env(self) -> dict[str, str]:
        """Environment that lets a trusted child process (a platform job) load these same settings.

        Only platform job kinds (``JobKind.platform_access``) get it: it carries the database URL
        and the instance secret, which user code never sees.
        """
        env = {"DAIS_HOME": str(self.home)}
        for f in fields(self):
            model = getattr(self, f.name)
            if isinstance(model, BaseSettings):
                env.update(_as_env(model))
        env["DAIS_DATABASE_URL"] = self.database_url
        env["DAIS_ARTIFACTS_URL"] = self.artifacts_url
        return env

    def secret_key(self) -> bytes:
        """The instance secret: from settings, else a key file created once in ``DAIS_HOME/keys``."""
        if self.security.secret_key is not None:
            return self.security.secret_key.get_secret_value().encode()
        return _key_file(self.keys_dir / "secret.key")


@functools.cache
def _key_file(path: Path) -> bytes:
    """Read the key file, creating it first (mode 0600 from the start) if it does not exist.

    The new key is written to a private temporary file and hard-linked into place, which fails if
    another process got there first; then everyone reads the same winner.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def _as_env(model: BaseSettings) -> dict[str, str]:
    prefix = str(model.model_config.get("env_prefix") or "")
    out: dict[str, str] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str | int | float | Path):
            text = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            text = json.dumps(value, default=str)
        out[f"{prefix}{name}".upper()] = text
    return out


def load_settings(**home_override: Path) -> Settings:
    """Read every subsystem's settings from the environment (and ``.env`` is not consulted)."""
    home = (home_override.get("home") or HomeSettings().resolved()).expanduser().resolve()
    return Settings(
        home=home,
        database=DatabaseSettings(),
        artifacts=ArtifactSettings(),
        api=ApiSettings(),
        admin=AdminSettings(),
        security=SecuritySettings(),
        log=LogSettings(),
        jobs=JobsSettings(),
        data=DataSettings(),
    )
