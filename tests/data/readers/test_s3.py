from __future__ import annotations

import io

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from dais.core.settings import DataSettings
from dais.data.connectors.base import SourceNotFound
from dais.data.connectors.s3 import S3Config, S3Connector, S3Secrets
from dais.data.inspect import inspect_source
from dais.data.media import thumbnail
from dais.data.reader import open_dataset
from dais.data.source import DataFormat, SourceSpec
from tests.conftest import S3Server


def _connector(s3: S3Server, bucket: str) -> S3Connector:
    config = S3Config(bucket=bucket, endpoint_url=s3.endpoint, region=s3.region)
    secrets = S3Secrets.model_validate({"access_key_id": s3.key, "secret_access_key": s3.secret})
    return S3Connector(config, secrets, settings=DataSettings())


def _parquet(rows: int, start: int) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(start, start + rows)), "v": ["x"] * rows}), out)
    return out.getvalue()


@pytest.mark.slow
def test_partitioned_parquet_on_s3(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for i, day in enumerate(["2024-01-01", "2024-01-02"]):
        client.put_object(Bucket=bucket, Key=f"lake/events/dt={day}/part-0.parquet", Body=_parquet(3, i * 3))
    client.put_object(Bucket=bucket, Key="lake/events/_SUCCESS", Body=b"")
    png = io.BytesIO()
    Image.new("RGB", (20, 10)).save(png, format="PNG")
    client.put_object(Bucket=bucket, Key="pics/cat/a.png", Body=png.getvalue())
    s3 = _connector(s3_server, bucket)

    ins = inspect_source(
        s3, SourceSpec(path="lake/events"), sample_rows=4, sample_max_bytes=1 << 20, timeout_s=10
    )
    assert ins.format == DataFormat.parquet
    assert ins.row_count == 6
    assert len(ins.sample) == 4
    assert [p.path for p in ins.partitions.partitions] == ["dt=2024-01-01", "dt=2024-01-02"]
    assert [c.name for c in ins.schema_ if c.partition] == ["dt"]
    assert ins.fingerprint["files"] == 2

    reader = open_dataset(
        s3, SourceSpec(path="lake/events", partition_filter=["dt=2024-01-02"]), timeout_s=10
    )
    assert reader.to_duckdb(duckdb.connect()).aggregate("min(id), count(*)").fetchall() == [(3, 3)]

    pics = inspect_source(s3, SourceSpec(path="pics"), sample_rows=4, sample_max_bytes=1 << 20, timeout_s=10)
    assert pics.media is not None
    assert (pics.media[0].path, pics.media[0].label, pics.media[0].width) == ("pics/cat/a.png", "cat", 20)
    assert thumbnail(s3.filesystem(10), s3.resolve("pics/cat/a.png"))[1] == "image/jpeg"

    with pytest.raises(SourceNotFound):
        inspect_source(
            s3, SourceSpec(path="lake/nothing"), sample_rows=4, sample_max_bytes=4096, timeout_s=10
        )
    with pytest.raises(SourceNotFound):
        inspect_source(
            _connector(s3_server, "no-such-bucket-here"),
            SourceSpec(path="x.parquet"),
            sample_rows=4,
            sample_max_bytes=4096,
            timeout_s=10,
        )
