"""Media datasets: image and video metadata (never their pixels in the DB), and thumbnails.

:func:`probe` reads only headers: Pillow's ``Image.open`` without ``load()`` (the first 64 KiB,
then the file if the header runs longer), PyAV's container for a video's duration and size.
:func:`thumbnail` renders a small JPEG/PNG, honouring EXIF orientation; a video's is its first frame.
"""

from __future__ import annotations

import io
import posixpath
from typing import Any

import pyarrow.fs as pafs

from dais.data.connectors.base import UnreadableData
from dais.data.formats import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, extension
from dais.data.listing import guarded
from dais.data.source import MediaItem

_HEAD = 64 * 1024
_EXIF_ORIENTATION = 0x0112
_ROTATED = frozenset({5, 6, 7, 8})  # orientations that swap width and height


def is_image(path: str) -> bool:
    return extension(path) in IMAGE_EXTENSIONS


def is_video(path: str) -> bool:
    return extension(path) in VIDEO_EXTENSIONS


def label_of(relative_path: str) -> str | None:
    """The label of a media file: its parent folder's name (``None`` at the dataset's top level)."""
    parent = posixpath.basename(posixpath.dirname(relative_path.strip("/")))
    return parent or None


def _open_image(fs: pafs.FileSystem, path: str) -> tuple[Any, Any]:
    """A Pillow image of ``path`` with only its header read, and the file handle to close (or None)."""
    from PIL import Image, UnidentifiedImageError

    with fs.open_input_stream(path) as f:
        head = bytes(f.read(_HEAD))
    try:
        img = Image.open(io.BytesIO(head))
        img.size  # noqa: B018 - the header is parsed by now
        return img, None
    except (OSError, SyntaxError, UnidentifiedImageError, ValueError):
        if len(head) < _HEAD:
            raise
    handle = fs.open_input_file(path)  # a header past 64 KiB (big EXIF blocks): read it from the file
    return Image.open(handle), handle


def probe(fs: pafs.FileSystem, path: str, *, size: int | None = None) -> MediaItem:
    """Size, width/height (images, videos) and duration (videos) of one media file, from its header.

    ``path`` is a filesystem path; the item's ``path`` is that path (callers make it relative).
    Raises :class:`UnreadableData` when the file is not a readable image or video.
    """
    if size is None:
        size = int(guarded(lambda: fs.get_file_info(path), path).size or 0)
    fmt = extension(path)
    if is_video(path):
        return _probe_video(fs, path, size, fmt)

    def read() -> MediaItem:
        try:
            img, handle = _open_image(fs, path)
        except Exception as exc:
            raise UnreadableData(f"{path} is not a readable image: {exc}") from exc
        try:
            width, height = img.size
            try:
                orientation = img.getexif().get(_EXIF_ORIENTATION)
            except Exception:  # a damaged EXIF block must not hide the image's size
                orientation = None
            if orientation in _ROTATED:
                width, height = height, width
            return MediaItem(
                path=path, size=size, width=width, height=height, format=(img.format or fmt).lower()
            )
        finally:
            img.close()
            if handle is not None:
                handle.close()

    return guarded(read, path)


def _probe_video(fs: pafs.FileSystem, path: str, size: int, fmt: str) -> MediaItem:
    import av

    def read() -> MediaItem:
        with fs.open_input_file(path) as handle:
            try:
                container = av.open(handle, mode="r")
            except Exception as exc:
                raise UnreadableData(f"{path} is not a readable video: {exc}") from exc
            try:
                duration = container.duration / av.time_base if container.duration else None
                width = height = None
                if container.streams.video:
                    stream = container.streams.video[0]
                    width, height = stream.codec_context.width or None, stream.codec_context.height or None
                    if duration is None and stream.duration and stream.time_base:
                        duration = float(stream.duration * stream.time_base)
                return MediaItem(
                    path=path, size=size, width=width, height=height, duration_s=duration, format=fmt
                )
            finally:
                container.close()

    return guarded(read, path)


def _encode(img: Any, max_px: int) -> tuple[bytes, str]:
    from PIL import ImageOps

    img = ImageOps.exif_transpose(img)
    img.thumbnail((max_px, max_px))
    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    out = io.BytesIO()
    if has_alpha:
        img.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    if img.mode != "RGB":
        img = img.convert("RGB")
    img.save(out, format="JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


def thumbnail(fs: pafs.FileSystem, path: str, max_px: int = 256) -> tuple[bytes, str]:
    """A thumbnail (at most ``max_px`` on its longer side) and its media type; a video's first frame."""
    if is_video(path):
        return _video_thumbnail(fs, path, max_px)
    from PIL import Image

    def render() -> tuple[bytes, str]:
        with fs.open_input_file(path) as handle:
            try:
                img = Image.open(handle)
                img.draft("RGB", (max_px, max_px))  # JPEG: decode at a reduced scale
                img.load()
            except Exception as exc:
                raise UnreadableData(f"{path} is not a readable image: {exc}") from exc
            with img:
                return _encode(img, max_px)

    return guarded(render, path)


def _video_thumbnail(fs: pafs.FileSystem, path: str, max_px: int) -> tuple[bytes, str]:
    import av

    def render() -> tuple[bytes, str]:
        with fs.open_input_file(path) as handle:
            try:
                container = av.open(handle, mode="r")
            except Exception as exc:
                raise UnreadableData(f"{path} is not a readable video: {exc}") from exc
            try:
                if not container.streams.video:
                    raise UnreadableData(f"{path} has no video stream.")
                for frame in container.decode(video=0):
                    return _encode(frame.to_image(), max_px)
                raise UnreadableData(f"{path} has no decodable video frame.")
            finally:
                container.close()

    return guarded(render, path)
