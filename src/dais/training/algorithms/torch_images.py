"""Images for the CNN preset: references to a media dataset's files, decoding and resizing.

A reference is a local path, bytes, a Pillow image, an ``HxW(xC)`` uint8 array, or any object with
``read_bytes()`` (a :class:`MediaFile` reads its file from the dataset's connection when needed).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dais.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np


def _open_image(ref: Any) -> tuple[Any, bool]:
    """A Pillow image of ``ref`` and whether we opened it (and so must close it)."""
    import numpy as np
    from PIL import Image

    if isinstance(ref, Image.Image):
        return ref, False
    if isinstance(ref, np.ndarray):
        return Image.fromarray(ref), True
    if isinstance(ref, bytes | bytearray | memoryview):
        return Image.open(io.BytesIO(bytes(ref))), True
    if isinstance(ref, str | os.PathLike):
        return Image.open(ref), True
    if hasattr(ref, "read_bytes"):
        return Image.open(io.BytesIO(ref.read_bytes())), True
    if hasattr(ref, "read"):
        return Image.open(ref), True
    raise InvalidInput(f"Cannot read an image from a {type(ref).__name__}.")


def decode_image(ref: Any, size: int, mode: str) -> np.ndarray:
    """One image as a ``size`` x ``size`` uint8 array (HWC), EXIF orientation applied, stretched."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img, ours = _open_image(ref)
        try:
            if ours and img.format == "JPEG":
                img.draft(mode, (size, size))  # decode at a reduced scale: much faster for big photos
            fixed = ImageOps.exif_transpose(img).convert(mode).resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(fixed, dtype=np.uint8)
        finally:
            if ours:
                img.close()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:
        raise InvalidInput(f"{str(ref)[:200]} is not a readable image: {exc}") from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


def decode_images(refs: Any, size: int, mode: str, threads: int) -> np.ndarray:
    """Every image decoded and resized (Pillow releases the GIL: a thread pool decodes in parallel)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    items = list(refs)
    channels = 3 if mode == "RGB" else 1
    out = np.empty((len(items), size, size, channels), dtype=np.uint8)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for i, arr in enumerate(pool.map(lambda r: decode_image(r, size, mode), items)):
            out[i] = arr
    return out


def image_batch(refs: Any, spec: dict[str, Any]) -> Any:
    """Image references as the float NCHW batch in [0, 1] the module takes."""
    import torch

    size = int(spec["size"][0])
    arrays = decode_images(refs, size, spec["mode"], 1)
    return torch.as_tensor(arrays).permute(0, 3, 1, 2).float().div_(255.0)


@dataclass(frozen=True)
class MediaFile:
    """One image of a media dataset, read from its source only when its pixels are needed."""

    fs: Any  # the connection's pyarrow filesystem (its calls bounded by the connection's timeout)
    path: str  # the filesystem path

    def read_bytes(self) -> bytes:
        with self.fs.open_input_stream(self.path) as f:
            return bytes(f.read())

    def __str__(self) -> str:
        return self.path


def media_files(connector: Any, paths: Iterable[str], *, timeout_s: float) -> list[MediaFile]:
    """The images of a media dataset as :class:`MediaFile` references, the rows of the CNN's
    ``TrainData.X``. ``connector`` is the dataset's files connector, ``paths`` its ``path`` column
    (relative to the connection's root; a path that would leave the root raises ``UnsafePath``)."""
    fs = connector.filesystem(timeout_s)
    return [MediaFile(fs, connector.guard(connector.resolve(p))) for p in paths]


def image_column(rows: Any) -> np.ndarray:
    """The image references of ``rows``: a 1-D sequence, or the first column of a 2-D one."""
    import numpy as np

    refs = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        refs[i] = (
            row[0]
            if isinstance(row, list | tuple) or (isinstance(row, np.ndarray) and row.dtype == object)
            else row
        )
    return refs
