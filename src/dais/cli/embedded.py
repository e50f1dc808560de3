"""What ``dais up`` and ``dais api`` do. Imported only when one of them runs (it pulls in the server)."""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

from dais.app import create_app
from dais.cli.lock import home_lock
from dais.cli.output import say
from dais.core.logging import configure_logging
from dais.core.settings import Settings, load_settings
from dais.db import Database, check_schema, create_database, current_revision, upgrade
from dais.tenancy.access import AuditContext
from dais.tenancy.auth import create_login_link
from dais.tenancy.bootstrap import ensure_admin


class Service(Protocol):
    """A background service started beside the API server (the scheduler, a worker pool)."""

    def stop(self) -> None: ...


def start_background_services(settings: Settings, db: Database) -> list[Service]:
    """Start what runs beside the API server in ``dais up``; stopped in reverse order on exit.

    The scheduler (schedules, notifications, lost-lease recovery), then the local worker pool:
    ``DAIS_JOBS_WORKERS`` workers of ``DAIS_JOBS_SLOTS`` slots each. Their jobs reach the API at the
    address a person would open (a wildcard listen address as loopback).
    """
    from dais.cli.pool import start_pool, start_scheduler

    services: list[Service] = [start_scheduler(settings, db)]
    if settings.jobs.workers > 0:
        api = settings.api.model_copy(update={"public_url": browser_url(settings).rstrip("/")})
        worker_settings = dataclasses.replace(settings, api=api)
        services.append(
            start_pool(worker_settings, db, workers=settings.jobs.workers, slots=settings.jobs.slots)
        )
    return services


def with_address(settings: Settings, host: str | None, port: int | None) -> Settings:
    """``settings`` with the API's host and port replaced by the command's options, if given."""
    update: dict[str, Any] = {}
    if host:
        update["host"] = host
    if port is not None:
        update["port"] = port
    return dataclasses.replace(settings, api=settings.api.model_copy(update=update)) if update else settings


def browser_url(settings: Settings) -> str:
    """The URL a person opens (a wildcard listen address is shown as loopback)."""
    if settings.api.public_url:
        return settings.api.public_url.rstrip("/") + "/"
    host = settings.api.host
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return f"http://{host}:{settings.api.port}/"


def _configure_logging(settings: Settings) -> None:
    configure_logging(
        level=settings.log.level,
        fmt=settings.log.format,
        log_dir=settings.logs_dir if settings.log.to_file else None,
    )


def _open_db(settings: Settings) -> Database:
    return create_database(
        settings.database_url,
        echo=settings.database.echo,
        busy_timeout_s=settings.database.sqlite_busy_timeout_s,
        pool_size=settings.database.pool_size,
    )


def prepare_schema(settings: Settings, db: Database) -> bool:
    """Create the schema of a new database (returns True); refuse a stale one with ``check_schema``."""
    if current_revision(db.engine) is None:
        upgrade(settings.database_url)
        return True
    check_schema(db.engine)
    return False


@dataclasses.dataclass
class Started:
    """What ``dais up`` prints once the server listens."""

    url: str
    login_link: str
    admin: str
    password_from_env: bool
    created: bool
    demo: list[str]


def bootstrap(settings: Settings, db: Database, *, demo: bool, url: str) -> Started:
    """First admin (and default workspace), demo content if asked, and a fresh one-time login link."""
    admin_password = settings.admin.password.get_secret_value() if settings.admin.password else None
    seeded: list[str] = []
    if demo:
        from dais.cli.demo import write_demo_data

        seeded += write_demo_data(settings)
    with db.session() as session:
        boot = ensure_admin(
            session, username=settings.admin.user, password=admin_password, email=settings.admin.email
        )
        if demo:
            from dais.cli.demo import seed_demo_datasets, seed_demo_experiment, seed_demo_records

            seeded += seed_demo_records(session, boot.admin)
            seeded += seed_demo_datasets(session, settings, boot.admin)
            seeded += seed_demo_experiment(session, boot.admin)
        ttl = timedelta(minutes=settings.api.login_link_ttl_minutes)
        _, code = create_login_link(session, AuditContext.system(), boot.admin, ttl=ttl)
        admin_name = boot.admin.username
    if demo:
        from dais.cli.demo import seed_demo_artifacts

        seeded += seed_demo_artifacts(settings, db)
    return Started(
        url=url,
        login_link=f"{url.rstrip('/')}/login/link/{code}",
        admin=admin_name,
        password_from_env=admin_password is not None,
        created=boot.created,
        demo=seeded,
    )


def _banner(started: Started, settings: Settings) -> None:
    say("")
    say(f"[bold green]Dais is running[/bold green] at [bold]{started.url}[/bold]")
    say(f"  Log in once with this link: [bold]{started.login_link}[/bold]")
    minutes = settings.api.login_link_ttl_minutes
    say(f"  (works once, for {minutes:g} minutes; signs you in as [bold]{started.admin}[/bold])")
    if not started.password_from_env:
        say("  For a new link later: `dais login-link --local`. DAIS_ADMIN_PASSWORD sets a password.")
    if started.demo:
        say(f"  Demo content added: {', '.join(started.demo)}")
    jobs = settings.jobs
    if jobs.workers:
        plural = "s" if jobs.workers > 1 else ""
        say(
            f"  Workers: {jobs.workers} worker{plural} of {jobs.slots} slots"
            " (DAIS_JOBS_WORKERS, DAIS_JOBS_SLOTS)"
        )
    else:
        say("  Workers: none in this process (DAIS_JOBS_WORKERS=0); run `dais worker` for jobs to run")
    logs = f"   Logs: {settings.logs_dir}" if settings.log.to_file else ""
    say(f"  Home: {settings.home}{logs}   Stop: Ctrl-C")
    say("")
    sys.stdout.flush()


class _Server(uvicorn.Server):
    """A uvicorn server that calls back once it listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit and self._on_started:
            self._on_started()


def _ignore_signal(signum: int, frame: object) -> None:
    """Stands in for the default handlers after uvicorn's graceful stop, which re-raises the signal."""


def serve(app: FastAPI, settings: Settings, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C, then stop gracefully and return (exit status 0)."""
    config = uvicorn.Config(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    previous = {sig: signal.signal(sig, _ignore_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        _Server(config, on_started).run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_up(*, host: str | None, port: int | None, demo: bool) -> None:
    """``dais up``: lock the home, prepare the database, bootstrap, serve, stop cleanly."""
    settings = with_address(load_settings(), host, port)
    if demo:
        from dais.cli.demo import with_demo_root

        settings = with_demo_root(settings)  # the demo's `file` connection reads DAIS_HOME/demo-data
    url = browser_url(settings)
    with home_lock(settings.home, url):
        _configure_logging(settings)
        db = _open_db(settings)
        try:
            if prepare_schema(settings, db):
                say(f"Created a new metadata database ({settings.database_url.split('://')[0]}).")
            started = bootstrap(settings, db, demo=demo, url=url)
            app = create_app(settings, db=db)
            services = start_background_services(settings, db)
            try:
                serve(app, settings, on_started=lambda: _banner(started, settings))
            finally:
                for service in reversed(services):
                    service.stop()
        finally:
            db.dispose()
    say("Dais stopped.")


def run_api(*, host: str | None, port: int | None) -> None:
    """``dais api``: serve the API on an already-migrated database; no lock, no migration."""
    settings = with_address(load_settings(), host, port)
    _configure_logging(settings)
    app = create_app(settings)  # refuses a stale schema, naming `dais db upgrade`
    serve(app, settings, on_started=lambda: say(f"Dais API listening on {browser_url(settings)}"))
