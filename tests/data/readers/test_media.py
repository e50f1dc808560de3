from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.fs as pafs
import pytest
from PIL import Image

from dais.data.connectors.base import UnreadableData
from dais.data.connectors.file import FileConnector
from dais.data.inspect import inspect_source
from dais.data.media import probe, thumbnail
from dais.data.reader import open_dataset
from dais.data.source import DataFormat, SourceSpec
from tests.data.readers.conftest import write

FS = pafs.LocalFileSystem()


def image(path: Path, size: tuple[int, int], *, fmt: str = "PNG", orientation: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue, to see rotations
    if orientation is None:
        img.save(path, format=fmt)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        img.save(path, format=fmt, exif=exif)
    return path


def video(path: Path, *, frames: int = 10, size: tuple[int, int] = (32, 24), fps: int = 10) -> Path:
    """A tiny MPEG-4 video made with PyAV itself."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            pixels = np.full((size[1], size[0], 3), (i * 20) % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_probe_reads_image_headers(tmp_path: Path) -> None:
    item = probe(FS, str(image(tmp_path / "a.png", (40, 30))))
    assert (item.width, item.height, item.format) == (40, 30, "png")
    assert item.size == (tmp_path / "a.png").stat().st_size


def test_probe_honours_exif_orientation(tmp_path: Path) -> None:
    item = probe(FS, str(image(tmp_path / "r.jpg", (40, 20), fmt="JPEG", orientation=6)))
    assert (item.width, item.height, item.format) == (20, 40, "jpeg")


def test_probe_reads_a_header_past_the_first_64_kib(tmp_path: Path) -> None:
    path = tmp_path / "big-exif.jpg"
    exif = Image.Exif()
    exif[0x010E] = "x" * 65_000  # ImageDescription: pushes the frame header past 64 KiB
    Image.new("RGB", (12, 8)).save(path, format="JPEG", exif=exif)
    assert (probe(FS, str(path)).width, probe(FS, str(path)).height) == (12, 8)


def test_probe_reads_video_duration_and_size(tmp_path: Path) -> None:
    item = probe(FS, str(video(tmp_path / "v.mp4", frames=20, fps=10)))
    assert (item.width, item.height, item.format) == (32, 24, "mp4")
    assert item.duration_s == pytest.approx(2.0, abs=0.2)


def test_thumbnails_are_small_and_upright(tmp_path: Path) -> None:
    data, media_type = thumbnail(
        FS, str(image(tmp_path / "r.jpg", (400, 200), fmt="JPEG", orientation=6)), 64
    )
    assert media_type == "image/jpeg"
    thumb = Image.open(io.BytesIO(data))
    assert thumb.size == (32, 64)  # rotated upright, then fit in 64 px
    top = thumb.getpixel((16, 2))
    assert isinstance(top, tuple)
    assert top[2] > top[0]


def test_transparent_images_keep_alpha_as_png(tmp_path: Path) -> None:
    path = tmp_path / "t.png"
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(path)
    assert thumbnail(FS, str(path))[1] == "image/png"


def test_a_video_thumbnail_is_its_first_frame(tmp_path: Path) -> None:
    data, media_type = thumbnail(FS, str(video(tmp_path / "v.mp4")), 16)
    assert media_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (16, 12)


def test_unreadable_media_raise(tmp_path: Path) -> None:
    write(tmp_path / "fake.png", b"not an image")
    write(tmp_path / "fake.mp4", b"not a video")
    with pytest.raises(UnreadableData, match="not a readable image"):
        probe(FS, str(tmp_path / "fake.png"))
    with pytest.raises(UnreadableData, match="not a readable video"):
        probe(FS, str(tmp_path / "fake.mp4"))
    with pytest.raises(UnreadableData, match="not a readable image"):
        thumbnail(FS, str(tmp_path / "fake.png"))


def test_an_image_folder_registers_items_with_labels(root: Path, files: FileConnector) -> None:
    for label, n in (("cat", 3), ("dog", 2)):
        for i in range(n):
            image(root / "pets" / label / f"{i}.png", (10 + i, 8))
    write(root / "pets" / "README.txt", "about the pets")
    write(root / "pets" / "dog" / "broken.png", b"nope")
    ins = inspect_source(
        files, SourceSpec(path="pets"), sample_rows=2, sample_max_bytes=1 << 20, timeout_s=10
    )
    assert ins.format == DataFormat.images
    assert ins.media_total == 6
    assert ins.media is not None
    assert len(ins.media) == 6
    first = ins.media[0]
    assert (first.path, first.label, first.width, first.height) == ("pets/cat/0.png", "cat", 10, 8)
    broken = next(m for m in ins.media if m.path.endswith("broken.png"))
    assert broken.width is None
    assert broken.label == "dog"
    assert any("could not be read" in w for w in ins.warnings)
    assert any("not in images format" in w for w in ins.warnings)
    assert len(ins.sample) == 2
    assert ins.sample[0]["label"] == "cat"
    labels = next(s for s in ins.stats if s.name == "label")
    assert labels.top == [("dog", 3), ("cat", 3)] or labels.top == [("cat", 3), ("dog", 3)]
    reader = open_dataset(files, SourceSpec(path="pets", format=DataFormat.images), timeout_s=10)
    assert reader.to_arrow().column("label").to_pylist() == ["cat"] * 3 + ["dog"] * 3


def test_media_probing_is_bounded(root: Path, files: FileConnector) -> None:
    for i in range(5):
        image(root / "imgs" / f"{i}.png", (4, 4))
    video(root / "clips" / "a" / "v.mp4")
    ins = inspect_source(
        files, SourceSpec(path="imgs"), sample_rows=10, sample_max_bytes=1 << 20, timeout_s=10, media_limit=2
    )
    assert ins.media is not None
    assert len(ins.media) == 2
    assert ins.media_total == 5
    assert any("first 2 of 5" in w for w in ins.warnings)
    clips = inspect_source(
        files, SourceSpec(path="clips"), sample_rows=10, sample_max_bytes=1 << 20, timeout_s=10
    )
    assert clips.format == DataFormat.video
    assert clips.media is not None
    assert clips.media[0].label == "a"
    assert clips.media[0].duration_s
