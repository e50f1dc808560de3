"""The API server shell: request ids, problem documents, probes, metrics, structured logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dais.app import OPENAPI_URL, create_app
from dais.core.errors import ServiceUnavailable
from dais.core.logging import configure_logging
from tests.conftest import Actor, World, make_settings

PROBLEM = "application/problem+json"


def test_every_response_has_a_request_id(client: TestClient, admin: Actor) -> None:
    seen = set()
    for r in (
        client.get("/healthz"),
        client.get("/api/v1/me", headers=admin.headers),
        client.get("/api/v1/me"),
        client.get("/api/v1/nope"),
        client.post("/api/v1/workspaces", json={"slug": 1}, headers=admin.headers),
    ):
        rid = r.headers["x-request-id"]
        assert rid
        seen.add(rid)
    assert len(seen) == 5


def test_a_sane_incoming_request_id_is_kept(client: TestClient) -> None:
    r = client.get("/api/v1/me", headers={"X-Request-ID": "trace-abc.123:xyz"})
    assert r.headers["x-request-id"] == "trace-abc.123:xyz"
    assert r.json()["request_id"] == "trace-abc.123:xyz"


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "<script>", "a\tb", "ünïcode"])
def test_an_insane_incoming_request_id_is_replaced(client: TestClient, bad: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": bad.encode()})
    assert r.headers["x-request-id"] != bad
    assert len(r.headers["x-request-id"]) == 32


def test_problem_bodies_carry_request_id_and_instance(client: TestClient) -> None:
    r = client.get("/api/v1/workspaces/x")
    body = r.json()
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["instance"] == "/api/v1/workspaces/x"
    assert body["type"].endswith("/unauthenticated")
    assert {"type", "title", "status", "detail", "code"} <= set(body)


def test_unknown_route_gets_404_problem(client: TestClient, admin: Actor) -> None:
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        r = client.request(method, "/api/v1/no-such-thing", headers=admin.headers)
        assert r.status_code == 404, (method, r.status_code)
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["code"] == "not_found"
        assert r.json()["request_id"] == r.headers["x-request-id"]


def test_wrong_method_gets_405_problem_with_allow(client: TestClient, admin: Actor) -> None:
    r = client.put("/api/v1/me", headers=admin.headers)
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "method_not_allowed"
    assert "PUT" in r.json()["detail"]
    assert "GET" in r.headers["allow"]
    r = client.delete("/healthz")
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM


def test_unexpected_error_gets_500_problem_without_internals(
    settings, db, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, db=db)

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("secret internal state: password=hunter2")

    app.router.routes.insert(0, app.router.routes.pop())  # before the web UI's catch-all
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        r = client.get("/test-only/boom", headers={"X-Request-ID": "req-boom"})
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 500
    assert body["code"] == "error"
    assert "hunter2" not in r.text
    assert "RuntimeError" not in r.text
    assert "Traceback" not in r.text
    assert "request id" in body["detail"]
    assert r.headers["x-request-id"] == "req-boom"
    assert body["request_id"] == "req-boom"
    # The details are in the server log, findable by the request id.
    logged = [rec for rec in caplog.records if rec.exc_info and "boom" in rec.getMessage()]
    assert logged
    assert "hunter2" in logging.Formatter().formatException(logged[0].exc_info)  # type: ignore[arg-type]


def test_an_error_carries_its_http_headers_into_the_problem_reply(settings, db) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, db=db)

    @app.get("/test-only/busy")
    def busy() -> None:
        raise ServiceUnavailable("Try again shortly.", headers={"Retry-After": "7"}, hint="busy")

    app.router.routes.insert(0, app.router.routes.pop())  # before the web UI's catch-all
    with TestClient(app) as client:
        r = client.get("/test-only/busy")
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["retry-after"] == "7"
    body = r.json()
    assert body["code"] == "unavailable"
    assert body["hint"] == "busy"
    assert "headers" not in body
    assert "Retry-After" not in r.text


def test_healthz_answers_without_auth(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["version"]


def test_readyz_answers_ready(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready"}


def test_metrics_need_auth(client: TestClient, admin: Actor) -> None:
    r = client.get("/metrics")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert client.get("/metrics", headers=admin.headers).status_code == 200


def test_metrics_can_be_public(tmp_path: Path, db_url: str) -> None:
    app = create_app(make_settings(tmp_path / "home", db_url, public_metrics=True))
    with TestClient(app) as client:
        r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")


def test_metrics_count_requests_by_route_template(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    for slug in ("team-a", "team-b", "team-c"):
        world.workspace(slug, alice)
        client.get(f"/api/v1/workspaces/{slug}", headers=alice.headers)
    client.get("/api/v1/workspaces/nope", headers=alice.headers)
    text = client.get("/metrics", headers=alice.headers).text
    line = 'dais_http_requests_total{method="GET",route="/api/v1/workspaces/{workspace}",status="200"} 3.0'
    assert line in text
    assert 'route="/api/v1/workspaces/{workspace}",status="404"} 1.0' in text
    assert "team-a" not in text  # no label per workspace: bounded cardinality
    assert (
        'dais_http_request_duration_seconds_count{method="GET",route="/api/v1/workspaces/{workspace}"}'
        in text
    )


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[Path]:
    """Dais logging configured as a server does, to a file; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="INFO", fmt="json", log_dir=tmp_path / "logs")
    yield tmp_path / "logs" / "dais.log"
    for h in list(root.handlers):
        if getattr(h, "_dais", False):
            root.removeHandler(h)
            h.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_logs_are_json_lines_with_the_request_id(client: TestClient, admin: Actor, json_log: Path) -> None:
    client.get("/api/v1/workspaces/nope", headers=admin.headers | {"X-Request-ID": "req-log-1"})
    for h in logging.getLogger().handlers:
        h.flush()
    lines = [json.loads(line) for line in json_log.read_text().splitlines() if line.strip()]
    access = [x for x in lines if x["logger"] == "dais.access" and x["request_id"] == "req-log-1"]
    assert len(access) == 1
    entry = access[0]
    assert entry["route"] == "/api/v1/workspaces/{workspace}"
    assert entry["status"] == 404
    assert entry["method"] == "GET"
    assert entry["level"] == "info"
    assert {"ts", "msg", "duration_ms"} <= set(entry)
    assert admin.token not in json_log.read_text()


def test_openapi_document_is_served_with_stable_operation_ids(client: TestClient) -> None:
    doc = client.get(OPENAPI_URL).json()
    ops = {op["operationId"] for path in doc["paths"].values() for op in path.values() if "operationId" in op}
    assert {"list_workspaces", "create_workspace", "get_me", "upload_artifact", "download_artifact"} <= ops


def test_app_state_is_per_app(settings, db) -> None:  # type: ignore[no-untyped-def]
    a: FastAPI = create_app(settings, db=db)
    b: FastAPI = create_app(settings, db=db)
    assert a.state.metrics is not b.state.metrics
