"""Slow and dead sources: a TCP server that accepts and never answers, used as S3 and PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from dais.core.settings import DataSettings
from dais.data.connectors import SourceTimeout, open_connector, run_with_timeout
from dais.data.connectors.sql import SqlConnector
from tests.data.connectors.sources import HangingServer, hanging_server

TIMEOUT_S = 0.6
SLACK_S = 1.5  # generous: a loaded CI machine may take long to build a client, never to wait


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    with hanging_server() as server:
        yield server


def _elapsed(start: float) -> float:
    return time.monotonic() - start


def test_run_with_timeout_returns_the_value_and_raises_the_error() -> None:
    assert run_with_timeout(lambda: 42, 1, "answering") == 42
    with pytest.raises(ZeroDivisionError):
        run_with_timeout(lambda: 1 // 0, 1, "dividing")


def test_run_with_timeout_never_blocks_longer(hanging: HangingServer) -> None:
    def read_forever() -> bytes:
        with socket.create_connection(("127.0.0.1", hanging.port)) as sock:
            return sock.recv(1)  # the server never sends

    start = time.monotonic()
    with pytest.raises(SourceTimeout, match=r"Reading the hanging server: no answer within 0\.6 s"):
        run_with_timeout(read_forever, TIMEOUT_S, "Reading the hanging server")
    assert TIMEOUT_S <= _elapsed(start) < TIMEOUT_S + SLACK_S


def test_a_late_result_is_discarded() -> None:
    release = threading.Event()
    discarded: list[str] = []
    with pytest.raises(SourceTimeout):
        run_with_timeout(lambda: "late" if release.wait(5) else "", 0.05, "waiting", discard=discarded.append)
    release.set()
    deadline = time.monotonic() + 2
    while not discarded and time.monotonic() < deadline:
        time.sleep(0.01)
    assert discarded == ["late"]


def test_s3_endpoint_that_never_answers_times_out(hanging: HangingServer) -> None:
    conn = open_connector(
        "s3",
        {"bucket": "bucket", "endpoint_url": f"http://127.0.0.1:{hanging.port}"},
        {"access_key_id": "k", "secret_access_key": "s"},
        DataSettings(),
    )
    start = time.monotonic()
    result = conn.check(timeout_s=TIMEOUT_S)
    assert _elapsed(start) < TIMEOUT_S + SLACK_S
    assert not result.ok
    assert result.details == {"code": "source_timeout"}
    start = time.monotonic()
    with pytest.raises(SourceTimeout):
        conn.browse("", timeout_s=TIMEOUT_S)
    assert _elapsed(start) < TIMEOUT_S + SLACK_S


def test_postgresql_host_that_never_answers_times_out(hanging: HangingServer) -> None:
    conn = open_connector(
        "sql", {"url": f"postgresql://u@127.0.0.1:{hanging.port}/db"}, {"password": "pw"}, DataSettings()
    )
    assert isinstance(conn, SqlConnector)
    start = time.monotonic()
    result = conn.check(timeout_s=TIMEOUT_S)
    assert _elapsed(start) < TIMEOUT_S + SLACK_S
    assert not result.ok
    assert result.details == {"code": "source_timeout"}
    for call in (
        lambda: conn.browse("", timeout_s=TIMEOUT_S),
        lambda: conn.read(table="t", query=None, timeout_s=TIMEOUT_S),
        lambda: conn.arrow_schema(table=None, query="SELECT 1", timeout_s=TIMEOUT_S),
    ):
        start = time.monotonic()
        with pytest.raises(SourceTimeout):
            call()
        assert _elapsed(start) < TIMEOUT_S + SLACK_S
