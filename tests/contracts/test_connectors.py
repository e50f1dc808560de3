"""Conformance suite for connector plugins: every kind passes the same tests.

A new connector kind adds a subclass of :class:`ConnectorContract` with three fixtures: ``kind``,
``working`` (a connector to a reachable source, or ``None`` for a kind that cannot work on this
installation) and ``broken`` (a connector to a source that is missing or refuses it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dais.core.errors import InvalidInput
from dais.core.settings import DataSettings
from dais.data.connectors import (
    CheckResult,
    Connector,
    FilesConnector,
    SourceEntry,
    SourceError,
    TablesConnector,
    connectors,
    open_connector,
)
from tests.conftest import S3Server
from tests.data.connectors.sources import mariadb_tables, postgres_database


class ConnectorContract:
    """What every connector kind guarantees."""

    def test_registered_under_its_name(self, kind: str) -> None:
        cls = connectors().get(kind)
        assert cls.name == kind
        assert cls.description
        assert {"files", "tables"} & cls.capabilities
        assert issubclass(cls, FilesConnector) == ("files" in cls.capabilities)
        assert issubclass(cls, TablesConnector) == ("tables" in cls.capabilities)

    def test_config_and_secrets_have_json_schemas(self, kind: str) -> None:
        cls = connectors().get(kind)
        for model in (cls.Config, cls.Secrets):
            schema = model.model_json_schema()
            assert schema["type"] == "object"
            assert schema.get("additionalProperties") is False

    def test_unknown_fields_are_refused_with_their_location(self, kind: str) -> None:
        with pytest.raises(InvalidInput) as info:
            open_connector(
                kind, {"no_such_field": 1}, {"no_such_secret": "v4lue-never-shown"}, DataSettings()
            )
        locs = [e["loc"] for e in info.value.errors]
        assert ["body", "config", "no_such_field"] in locs
        assert ["body", "secrets", "no_such_secret"] in locs
        assert "v4lue-never-shown" not in str(info.value.to_problem())

    def test_check_of_a_working_source(self, working: Connector | None) -> None:
        if working is None:
            pytest.skip("this kind cannot reach a source on this installation")
        result = working.check(timeout_s=10)
        assert isinstance(result, CheckResult)
        assert result.ok, result.message
        assert result.latency_ms >= 0
        assert result.message

    def test_check_of_a_broken_source_reports_without_raising(self, broken: Connector) -> None:
        result = broken.check(timeout_s=10)
        assert not result.ok
        assert result.message
        assert result.details is not None
        assert result.details["code"].startswith(("source_", "connector_"))

    def test_browse_lists_entries(self, working: Connector | None) -> None:
        if working is None:
            pytest.skip("this kind cannot reach a source on this installation")
        entries = working.browse("", timeout_s=10)
        assert entries
        assert all(isinstance(e, SourceEntry) for e in entries)
        assert all(e.kind in {"dir", "file", "table", "view", "schema"} for e in entries)

    def test_browse_of_a_broken_source_raises_a_source_error(self, broken: Connector) -> None:
        with pytest.raises(SourceError):
            broken.browse("", timeout_s=10)

    def test_close_twice_is_harmless(self, working: Connector | None, broken: Connector) -> None:
        for conn in (working, broken):
            if conn is not None:
                conn.close()
                conn.close()


class TestFileConnector(ConnectorContract):
    @pytest.fixture
    def kind(self) -> str:
        return "file"

    @pytest.fixture
    def working(self, tmp_path: Path) -> Connector:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "a.csv").write_text("a\n1\n")
        return open_connector(
            "file", {"root": str(tmp_path / "data")}, {}, DataSettings(allowed_roots=[tmp_path])
        )

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Connector:
        return open_connector(
            "file", {"root": str(tmp_path / "gone")}, {}, DataSettings(allowed_roots=[tmp_path])
        )


@pytest.mark.slow
class TestS3Connector(ConnectorContract):
    @pytest.fixture
    def kind(self) -> str:
        return "s3"

    def _open(self, server: S3Server, bucket: str) -> Connector:
        return open_connector(
            "s3",
            {"bucket": bucket, "endpoint_url": server.endpoint, "region": server.region},
            {"access_key_id": server.key, "secret_access_key": server.secret},
            DataSettings(),
        )

    @pytest.fixture
    def working(self, s3_server: S3Server) -> Connector:
        bucket = s3_server.new_bucket()
        s3_server.client().put_object(Bucket=bucket, Key="a/b.csv", Body=b"x")
        return self._open(s3_server, bucket)

    @pytest.fixture
    def broken(self, s3_server: S3Server) -> Connector:
        return self._open(s3_server, "no-such-bucket-anywhere")


class TestSqliteConnector(ConnectorContract):
    @pytest.fixture
    def kind(self) -> str:
        return "sql"

    @pytest.fixture
    def working(self, tmp_path: Path) -> Connector:
        db = sqlite3.connect(tmp_path / "x.db")
        db.execute("CREATE TABLE t (a integer)")
        db.commit()
        db.close()
        return open_connector(
            "sql", {"url": f"sqlite:///{tmp_path}/x.db"}, {}, DataSettings(allowed_roots=[tmp_path])
        )

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Connector:
        return open_connector(
            "sql", {"url": f"sqlite:///{tmp_path}/no.db"}, {}, DataSettings(allowed_roots=[tmp_path])
        )


class TestPostgresqlConnector(TestSqliteConnector):
    @pytest.fixture
    def working(self) -> Iterator[Connector]:
        with postgres_database() as url:
            conn = open_connector("sql", {"url": url}, {}, DataSettings())
            yield conn
            conn.close()

    @pytest.fixture
    def broken(self) -> Connector:
        return open_connector(
            "sql", {"url": "postgresql://postgres@127.0.0.1:5432/no_such_db_x"}, {}, DataSettings()
        )


class TestMariadbConnector(TestSqliteConnector):
    @pytest.fixture
    def working(self) -> Iterator[Connector]:
        with mariadb_tables() as (url, _):
            conn = open_connector("sql", {"url": url}, {}, DataSettings())
            yield conn
            conn.close()

    @pytest.fixture
    def broken(self) -> Connector:
        return open_connector(
            "sql", {"url": "mysql://root@127.0.0.1:3306/test"}, {"password": "wrong"}, DataSettings()
        )


class TestHiveConnector(ConnectorContract):
    @pytest.fixture
    def kind(self) -> str:
        return "hive"

    @pytest.fixture
    def working(self) -> None:
        return None

    @pytest.fixture
    def broken(self) -> Connector:
        return open_connector("hive", {"metastore_uri": "thrift://127.0.0.1:9083"}, {}, DataSettings())


class TestHdfsConnector(ConnectorContract):
    @pytest.fixture
    def kind(self) -> str:
        return "hdfs"

    @pytest.fixture
    def working(self) -> None:
        return None

    @pytest.fixture
    def broken(self) -> Connector:
        return open_connector("hdfs", {"namenode_host": "127.0.0.1"}, {}, DataSettings())
