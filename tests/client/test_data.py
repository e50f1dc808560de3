"""Data through the SDK against a live server with a worker: connections, registering (waiting on the
job), reading back (Arrow stream, pandas, files), versions, media, and chunked resumable uploads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from PIL import Image

from dais import Client
from dais.app import create_app
from dais.cli.demo_data import DEMO_DAYS, write_breast_cancer_parquet
from dais.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from dais.core.settings import DataSettings, Settings
from dais.data.connectors import SourceNotFound
from dais.db import Database
from dais.storage import open_store
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """The folder `file` connections may read (the administrator's allow-list)."""
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def data_settings(settings: Settings, data_root: Path) -> Settings:
    return dataclasses.replace(
        settings, data=DataSettings(allowed_roots=[data_root], source_timeout_s=10, preview_timeout_s=10)
    )


@pytest.fixture
def app(data_settings: Settings, db: Database) -> FastAPI:
    return create_app(data_settings, db=db)


@dataclass
class Team:
    """alice owns `team`; eve owns `other`."""

    alice: Actor
    eve: Actor


@pytest.fixture
def team(world: World) -> Team:
    alice, eve = world.user("alice"), world.user("eve")
    world.workspace("team", alice)
    world.workspace("other", eve)
    return Team(alice, eve)


@pytest.fixture
def data_worker(data_settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running data jobs with the platform's settings."""
    with running_worker(data_settings, db, open_store(data_settings)):
        yield


@pytest.fixture
def client(server_url: str, team: Team) -> Iterator[Client]:
    with Client(server_url, team.alice.token, workspace="team") as c:
        yield c


@pytest.fixture
def lake(client: Client, data_root: Path) -> Path:
    """A `lake` file connection over the allowed root, holding the demo's partitioned parquet."""
    write_breast_cancer_parquet(data_root / "cancer")
    client.connections.create("lake", "file", config={"root": str(data_root)}, description="test files")
    return data_root


def test_connections_are_created_tested_browsed_and_deleted(client: Client, data_root: Path) -> None:
    (data_root / "sales").mkdir()
    (data_root / "notes.txt").write_text("hello\n")
    kinds = {k.name: k for k in client.connections.kinds()}
    assert kinds["file"].available
    assert "root" in kinds["file"].config_schema["properties"]
    conn = client.connections.create("lake", "file", config={"root": str(data_root)})
    assert (conn.name, conn.kind, conn.health, conn.secrets_set) == ("lake", "file", "unknown", [])
    check = client.connections.test("lake")
    assert check.ok, check.message
    assert client.connections.get("lake").health == "ok"
    entries = {e.name: e.kind for e in client.connections.browse("lake")}
    assert entries == {"sales": "dir", "notes.txt": "file"}
    assert client.connections.test_unsaved("file", config={"root": str(data_root)}).ok
    changed = client.connections.update("lake", description="the lake")
    assert changed.description == "the lake"
    assert [c.name for c in client.connections.list()] == ["lake"]
    with pytest.raises(AlreadyExists):
        client.connections.create("lake", "file", config={"root": str(data_root)})
    with pytest.raises(InvalidInput) as bad:
        client.connections.create("elsewhere", "file", config={"root": "/etc"})
    assert any("root" in e["loc"] for e in bad.value.errors)
    client.connections.delete("lake")
    with pytest.raises(NotFound):
        client.connections.get("lake")


@pytest.mark.slow
def test_register_waits_for_the_job_and_returns_the_dataset(
    client: Client, lake: Path, data_worker: None
) -> None:
    heard: list[tuple[float | None, str]] = []
    ds = client.datasets.register(
        "cancer", connection="lake", path="cancer", progress=lambda f, m: heard.append((f, m))
    )
    assert heard, "progress was never reported"
    assert (ds.name, ds.format, ds.row_count, ds.current_version) == ("cancer", "parquet", 569, 1)
    names = [c.name for c in ds.schema]
    assert {"patient_id", "mean_radius", "diagnosis", "dt"} <= set(names)
    assert next(c for c in ds.schema if c.name == "dt").partition
    assert 0 < len(ds.sample) <= 100
    assert {"patient_id", "diagnosis"} <= set(ds.sample[0])
    assert any(s.name == "mean_radius" and s.mean is not None for s in ds.stats)
    assert [p.path for p in ds.partitions.partitions] == [f"dt={d}" for d in DEMO_DAYS]
    assert [d.name for d in client.datasets.list()] == ["cancer"]
    assert client.datasets.get("cancer").id == ds.id


@pytest.mark.slow
def test_data_reads_back_as_arrow_batches_pandas_and_files(
    client: Client, lake: Path, data_worker: None, tmp_path: Path
) -> None:
    ds = client.datasets.register("cancer", connection="lake", path="cancer")
    batches = list(ds.iter_batches())
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert sum(b.num_rows for b in batches) == 569
    table = ds.to_arrow(columns=["patient_id", "diagnosis"])
    assert table.num_rows == 569
    assert table.column_names == ["patient_id", "diagnosis"]
    assert sorted(table.column("patient_id").to_pylist()) == list(range(569))
    one_day = ds.to_arrow(partitions=[f"dt={DEMO_DAYS[0]}"])
    assert one_day.num_rows == len(range(0, 569, len(DEMO_DAYS)))
    frame = ds.to_pandas(limit=10)
    assert len(frame) == 10
    assert "mean_radius" in frame.columns
    written = ds.download(tmp_path, format="parquet")
    assert written.name == "cancer.parquet"
    assert pq.read_table(written).num_rows == 569
    csv = client.datasets.download("cancer", tmp_path / "few.csv", format="csv", limit=5)
    assert len(csv.read_text().splitlines()) == 6  # a header and 5 rows


@pytest.mark.slow
def test_versions_pin_partitions_or_copy_the_data_with_lineage(
    client: Client, lake: Path, data_worker: None
) -> None:
    ds = client.datasets.register("cancer", connection="lake", path="cancer")
    [first] = ds.versions()
    assert (first.number, first.kind) == (1, "pointer")
    pinned = ds.create_version(partitions=[f"dt={DEMO_DAYS[1]}"], note="one day")
    assert (pinned.number, pinned.partitions, pinned.note) == (2, [f"dt={DEMO_DAYS[1]}"], "one day")
    assert ds.to_arrow(version=2).num_rows == len(range(1, 569, len(DEMO_DAYS)))
    assert [v.number for v in client.datasets.versions("cancer")] == [2, 1]
    assert client.datasets.version("cancer", 2).partitions == [f"dt={DEMO_DAYS[1]}"]
    assert ds.lineage().upstream == []
    heard: list[float | None] = []
    copy = ds.create_version(
        kind="materialized", from_version=1, note="a copy", progress=lambda f, m: heard.append(f)
    )
    assert (copy.number, copy.kind, copy.row_count) == (3, "materialized", 569)
    assert copy.artifact_prefix
    assert heard
    assert ds.to_arrow(version=3).num_rows == 569
    [edge] = ds.lineage().upstream
    assert (edge.version, edge.input_dataset, edge.input_version) == (3, "cancer", 1)


@pytest.mark.slow
def test_a_failed_registration_raises_the_source_error_and_registers_nothing(
    client: Client, lake: Path, data_worker: None
) -> None:
    with pytest.raises(SourceNotFound) as failed:
        client.datasets.register("ghost", connection="lake", path="no/such/folder")
    assert failed.value.extra["job_id"]
    with pytest.raises(NotFound):
        client.datasets.get("ghost")
    with pytest.raises(NotFound):
        client.datasets.register("ghost", connection="nowhere", path="x")
    with pytest.raises(InvalidInput):
        client.datasets.register("both", connection="lake", path="x", table="y")


@pytest.mark.slow
def test_register_without_waiting_returns_the_job(client: Client, lake: Path, data_worker: None) -> None:
    reg = client.datasets.register("cancer", connection="lake", path="cancer", wait=False)
    assert reg.dataset == "cancer"
    assert reg.job.kind == "data.register"
    assert client.datasets.wait_for_job(reg.job, timeout=60).succeeded
    assert client.datasets.get("cancer").row_count == 569


@pytest.mark.slow
def test_media_datasets_list_items_and_serve_thumbnails(
    client: Client, data_root: Path, data_worker: None
) -> None:
    for label, shade in (("cats", 40), ("dogs", 200)):
        folder = data_root / "pets" / label
        folder.mkdir(parents=True)
        for i in range(3):
            Image.new("L", (40 + i, 30), shade).save(folder / f"{i}.png")
    client.connections.create("lake", "file", config={"root": str(data_root)})
    ds = client.datasets.register("pets", connection="lake", path="pets", format="images")
    assert (ds.format, ds.media_total) == ("images", 6)
    items = list(ds.media())
    assert sorted({m.label for m in items}) == ["cats", "dogs"]
    assert [m.width for m in ds.media(label="dogs")] == [40, 41, 42]
    first = items[0]
    assert first.id is not None
    assert ds.thumbnail(first.id)[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert ds.media_content(first.id)[:4] == b"\x89PNG"


@pytest.mark.slow
def test_uploads_go_in_chunks_resume_and_register(client: Client, tmp_path: Path, data_worker: None) -> None:
    lines = ["id,name,score"] + [f"{i},name-{i},{i * 0.5}" for i in range(400)]
    file = tmp_path / "scores.csv"
    file.write_text("\n".join(lines) + "\n")
    size = file.stat().st_size
    seen: list[tuple[int, int | None]] = []
    up = client.uploads.upload(file, chunk_size=1000, progress=lambda done, total: seen.append((done, total)))
    assert (up.state, up.size, up.received) == ("complete", size, size)
    assert up.key == f"uploads/{up.id}/scores.csv"
    assert seen[0] == (0, size)
    assert seen[-1] == (size, size)
    assert len(seen) > 5
    # A broken-off upload: the first chunk arrived, then the client went away; resume continues it.
    broken = client.uploads.create("again.csv", size)
    data = file.read_bytes()
    client.uploads.send(broken.id, data[:1500], offset=0, total=size)
    with pytest.raises(Conflict):  # a gap is refused, naming the offset to resume from
        client.uploads.send(broken.id, data[3000:4000], offset=3000, total=size)
    assert client.uploads.get(broken.id).received == 1500
    resumed = client.uploads.upload(file, resume=broken.id, chunk_size=4096)
    assert resumed.state == "complete"
    ds = client.datasets.register("scores", path=resumed.key)
    assert ds.connection is None
    assert ds.format == "csv"
    frame = ds.to_pandas()
    assert len(frame) == 400
    assert list(frame.columns) == ["id", "name", "score"]


def test_data_calls_need_a_workspace_unless_the_client_has_one(
    server_url: str, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Client(server_url, team.alice.token) as c:
        with pytest.raises(InvalidInput, match="Which workspace"):
            list(c.datasets.list())
        assert list(c.datasets.list(workspace="team")) == []
        monkeypatch.setenv("DAIS_WORKSPACE", "team")
        assert list(c.connections.list()) == []
        with pytest.raises(NotFound):  # another user's workspace is invisible
            list(c.connections.list(workspace="other"))
