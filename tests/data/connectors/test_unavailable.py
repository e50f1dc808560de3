"""``hive`` and ``hdfs``: real settings, and a clear 501 naming what to install on every call."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dais.core.errors import InvalidInput
from dais.core.settings import DataSettings
from dais.data.connectors import ConnectorUnavailable, open_connector
from dais.data.connectors.hdfs import HdfsConnector
from dais.data.connectors.hive import HiveConnector


def test_hive_says_it_needs_the_spark_extra() -> None:
    conn = open_connector("hive", {"metastore_uri": "thrift://metastore:9083"}, {}, DataSettings())
    assert isinstance(conn, HiveConnector)
    result = conn.check(timeout_s=1)
    assert not result.ok
    assert "spark" in result.message
    assert result.details == {"code": "connector_unavailable"}
    calls: list[Callable[[], object]] = [
        lambda: conn.browse("", timeout_s=1),
        lambda: conn.arrow_schema(table="t", query=None, timeout_s=1),
        lambda: conn.read(table="t", query=None, timeout_s=1),
        lambda: conn.row_count(table="t", query=None, timeout_s=1),
        lambda: conn.fingerprint(table="t", query=None, update_column=None, timeout_s=1),
    ]
    for call in calls:
        with pytest.raises(ConnectorUnavailable) as info:
            call()
        assert info.value.status == 501
        assert "pip install 'dais[spark]'" in info.value.detail or "scale-out" in info.value.detail


def test_hdfs_says_it_needs_a_hadoop_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HADOOP_HOME", raising=False)
    conn = open_connector("hdfs", {"namenode_host": "namenode", "user": "etl"}, {}, DataSettings())
    assert isinstance(conn, HdfsConnector)
    result = conn.check(timeout_s=1)
    assert not result.ok
    assert "libhdfs and HADOOP_HOME" in result.message
    for call in (
        lambda: conn.browse("", timeout_s=1),
        lambda: conn.filesystem(timeout_s=1),
        lambda: conn.resolve("a/b.parquet"),
    ):
        with pytest.raises(ConnectorUnavailable, match="Hadoop client") as info:
            call()
        assert info.value.status == 501


def test_their_settings_are_validated() -> None:
    with pytest.raises(InvalidInput) as info:
        open_connector("hive", {"metastore_uri": "http://x"}, {}, DataSettings())
    assert info.value.errors[0]["loc"] == ["body", "config", "metastore_uri"]
    with pytest.raises(InvalidInput) as info:
        open_connector("hdfs", {"namenode_host": "nn", "namenode_port": 0}, {}, DataSettings())
    assert info.value.errors[0]["loc"] == ["body", "config", "namenode_port"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InvalidInput, match="known kinds: file, hdfs, hive, s3, sql") as info:
        open_connector("ftp", {}, {}, DataSettings())
    assert info.value.errors[0]["loc"] == ["body", "kind"]
