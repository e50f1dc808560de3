"""The ``s3`` connector against moto_server: credentials, missing buckets, browsing, reading."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dais.core.errors import InvalidInput, UnsafePath
from dais.core.settings import DataSettings
from dais.data.connectors import SourceAccessDenied, SourceNotFound, open_connector
from dais.data.connectors.s3 import S3Connector
from tests.conftest import S3Server
from tests.data.connectors.sources import s3_with_auth

pytestmark = pytest.mark.slow  # starts moto_server


def connector(
    server: S3Server, bucket: str, *, prefix: str = "", key: str | None = None, secret: str | None = None
) -> S3Connector:
    config = {"bucket": bucket, "prefix": prefix, "endpoint_url": server.endpoint, "region": server.region}
    secrets = {"access_key_id": key or server.key, "secret_access_key": secret or server.secret}
    conn = open_connector("s3", config, secrets, DataSettings())
    assert isinstance(conn, S3Connector)
    return conn


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = s3_server.new_bucket()
    client = s3_server.client()
    for key in ("data/2024/a.csv", "data/2024/b.csv", "data/2025/c.csv", "data/top.txt", "other/x"):
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def test_check_with_the_right_credentials(s3_server: S3Server, bucket: str) -> None:
    result = connector(s3_server, bucket).check(timeout_s=10)
    assert result.ok, result.message
    assert bucket in result.message


def test_wrong_credentials_fail_with_the_s3_message(s3_server: S3Server, bucket: str) -> None:
    with s3_with_auth(s3_server) as (key, secret):
        assert connector(s3_server, bucket, key=key, secret=secret).check(timeout_s=10).ok
        wrong_key = connector(s3_server, bucket, key="AKIAWRONGWRONGWRONG", secret=secret)
        result = wrong_key.check(timeout_s=10)
        assert not result.ok
        assert result.message.startswith(
            "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist"
        )
        assert result.details == {"code": "source_access_denied"}
        wrong_secret = connector(s3_server, bucket, key=key, secret="not-the-secret-at-all")
        result = wrong_secret.check(timeout_s=10)
        assert not result.ok
        assert result.message.startswith("SignatureDoesNotMatch:")
        assert "not-the-secret-at-all" not in result.message
        with pytest.raises(SourceAccessDenied, match="SignatureDoesNotMatch"):
            wrong_secret.browse("", timeout_s=10)
        with pytest.raises(OSError, match="SIGNATURE_DOES_NOT_MATCH") as info:
            wrong_secret.filesystem(timeout_s=10).get_file_info(pa.fs.FileSelector(wrong_secret.resolve("")))
        assert isinstance(wrong_secret.source_error(info.value), SourceAccessDenied)


def test_missing_bucket_is_not_found(s3_server: S3Server) -> None:
    conn = connector(s3_server, "no-such-bucket-here")
    result = conn.check(timeout_s=10)
    assert not result.ok
    assert result.message.startswith("NoSuchBucket: The specified bucket does not exist")
    assert result.details == {"code": "source_not_found"}
    with pytest.raises(SourceNotFound, match="NoSuchBucket"):
        conn.browse("", timeout_s=10)


def test_browse_lists_one_level_under_the_prefix(s3_server: S3Server, bucket: str) -> None:
    conn = connector(s3_server, bucket, prefix="data")
    entries = conn.browse("", timeout_s=10)
    assert [(e.name, e.path, e.kind) for e in entries] == [
        ("2024", "2024", "dir"),
        ("2025", "2025", "dir"),
        ("top.txt", "top.txt", "file"),
    ]
    assert entries[2].size == len(b"data/top.txt")
    assert entries[2].modified is not None
    assert [e.path for e in conn.browse("2024/", timeout_s=10)] == ["2024/a.csv", "2024/b.csv"]
    assert [e.path for e in conn.browse("2024/a.csv", timeout_s=10)] == ["2024/a.csv"]
    with pytest.raises(SourceNotFound):
        conn.browse("2023", timeout_s=10)
    assert len(connector(s3_server, bucket).browse("", limit=1, timeout_s=10)) == 1


def test_paths_stay_under_the_prefix(s3_server: S3Server, bucket: str) -> None:
    conn = connector(s3_server, bucket, prefix="data/")
    assert conn.resolve("2024/*.csv") == f"{bucket}/data/2024/*.csv"
    assert conn.relative(f"{bucket}/data/2024/a.csv") == "2024/a.csv"
    for path in ("../other/x", "/abs", "%2e%2e/other"):
        with pytest.raises(UnsafePath):
            conn.resolve(path)
    with pytest.raises(UnsafePath):
        conn.relative(f"{bucket}/other/x")


def test_pyarrow_filesystem_reads_a_parquet_file(s3_server: S3Server, bucket: str) -> None:
    conn = connector(s3_server, bucket, prefix="tables")
    fs = conn.filesystem(timeout_s=10)
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), conn.resolve("t.parquet"), filesystem=fs)
    table = pq.read_table(conn.resolve("t.parquet"), filesystem=conn.filesystem(timeout_s=10))
    assert table.to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]
    assert [e.name for e in conn.browse("", timeout_s=10)] == ["t.parquet"]


def test_bad_config_names_the_field_and_never_echoes_a_secret() -> None:
    with pytest.raises(InvalidInput) as info:
        open_connector(
            "s3",
            {"bucket": "Bad/Name", "endpoint_url": "ftp://x"},
            {"secret_access_key": "s3cr3t-value", "extra": "s3cr3t-value"},
            DataSettings(),
        )
    locs = [e["loc"] for e in info.value.errors]
    assert ["body", "config", "bucket"] in locs
    assert ["body", "config", "endpoint_url"] in locs
    with pytest.raises(InvalidInput) as info:
        open_connector(
            "s3", {"bucket": "ok-bucket"}, {"secret_access_key": 12, "x": "s3cr3t-value"}, DataSettings()
        )
    assert ["body", "secrets", "x"] in [e["loc"] for e in info.value.errors]
    assert "s3cr3t-value" not in str(info.value.to_problem())
