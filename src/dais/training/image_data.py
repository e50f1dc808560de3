"""Image classification's data: a media dataset (a folder of images, one sub-folder per class)
instead of table rows.

:func:`plan_images` checks the request (an image dataset, its ``label`` column as the target, no
feature columns, no transforms, no time split), :func:`labelled_images` what the registered items
show (labels, how many), and :func:`load_images` turns the version's listing into references that
read each image from the dataset's connection only when training needs its pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dais.core.errors import InvalidInput
from dais.training.data import ColumnPlan, LoadedData, TransformsRef

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.orm import Session

    from dais.data import Dataset, DatasetVersion


def _invalid(message: str, loc: tuple[str, ...], msg: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"loc": list(loc), "msg": msg}])


#: The task of algorithms that train on a media dataset's images.
IMAGE_TASK = "image_classification"
#: The column of a media dataset that holds each item's class: its folder's name.
IMAGE_TARGET = "label"
#: The columns read from a media dataset's listing.
IMAGE_COLUMNS = ["path", IMAGE_TARGET]


def is_media(ds: Dataset) -> bool:
    """Whether ``ds`` is a media dataset (images or video files, their metadata registered)."""
    from dais.data.source import MEDIA_FORMATS

    return ds.format in {str(f) for f in MEDIA_FORMATS}


def plan_images(
    ds: Dataset,
    *,
    target: str | None,
    features: list[str] | None,
    split: Any,
    transforms: TransformsRef | None = None,
) -> ColumnPlan:
    """Check an image classification request against the dataset: an image dataset, its ``label``
    column as the target, the images as the only features (no columns named, no transforms), no
    time split."""
    from dais.training.splits import TimeSplit

    if ds.format != "images":
        kind = "a video dataset" if is_media(ds) else f"a {ds.format or 'table'} dataset"
        raise _invalid(
            f"Image classification trains on an image dataset (a folder of images, one sub-folder per "
            f"class); {ds.name!r} is {kind}.",
            ("body", "dataset"),
            "not an image dataset",
        )
    if features is not None:
        raise _invalid(
            "Image classification learns from the images themselves: leave `features` out.",
            ("body", "features"),
            "not for images",
        )
    if target is not None and target != IMAGE_TARGET:
        raise _invalid(
            f"An image's class is its {IMAGE_TARGET!r} (the name of the folder it is in); {target!r} "
            f"cannot be the target. Leave `target` out or set it to {IMAGE_TARGET!r}.",
            ("body", "target"),
            "not the label",
        )
    if transforms is not None:
        raise _invalid(
            "A pipeline's transforms apply to table rows, not to images: leave `transforms` out.",
            ("body", "transforms"),
            "not for images",
        )
    if isinstance(split, TimeSplit):
        raise _invalid(
            "Images have no time column: use a holdout or k-fold split.",
            ("body", "split", "kind"),
            "no time column",
        )
    return ColumnPlan(features=[], target=IMAGE_TARGET, read=list(IMAGE_COLUMNS), target_dtype="string")


def labelled_images(session: Session, ds: Dataset, v: DatasetVersion) -> int | None:
    """How many readable, labelled images the registered items show (``None`` when they do not
    describe ``v`` whole: an older version, or more files than were probed); 422 naming the target
    when no image has a label, or when every image has the same one."""
    from sqlalchemy import func

    from dais.data.models import DatasetMedia

    if v.number != ds.current_version:
        return None
    rows = session.execute(
        select(DatasetMedia.label, func.count())
        .where(DatasetMedia.dataset_id == ds.id, DatasetMedia.width.is_not(None))
        .group_by(DatasetMedia.label)
    ).all()
    probed = int(
        session.scalar(select(func.count()).select_from(DatasetMedia).where(DatasetMedia.dataset_id == ds.id))
        or 0
    )
    if ds.media_total is None or probed < ds.media_total:
        return None
    counts = {str(label): int(n) for label, n in rows if label}
    if not counts:
        raise _invalid(
            f"No image of {ds.name!r} has a label: put the images in one folder per class (the folder's "
            "name is the label) and register the parent folder.",
            ("body", "target"),
            "no labels",
        )
    if len(counts) == 1:
        raise _invalid(
            f"Every labelled image of {ds.name!r} is {next(iter(counts))!r}: classification needs at "
            "least two classes (one folder per class).",
            ("body", "target"),
            "single class",
        )
    return sum(counts.values())


def unreadable_images(session: Session, ds: Dataset, v: DatasetVersion) -> set[str]:
    """The paths registration could not read as images (left out of training)."""
    from dais.data.models import DatasetMedia

    if v.number != ds.current_version:
        return set()
    return set(
        session.scalars(
            select(DatasetMedia.path).where(DatasetMedia.dataset_id == ds.id, DatasetMedia.width.is_(None))
        )
    )


def load_images(
    table: pa.Table, plan: ColumnPlan, connector: Any, *, timeout_s: float, unreadable: set[str]
) -> LoadedData:
    """The version's listing (``path``, ``label``) as training rows: ``X`` holds one reference per
    image (a :class:`~dais.training.algorithms.torch_images.MediaFile`, which reads its file from
    ``connector`` only when its pixels are needed), ``y`` the class codes of the labels. Items
    without a label, files that are not images and those registration could not read are left out
    (counted in ``dropped``). ``connector`` must stay open while the references are used."""
    import numpy as np

    from dais.data.media import is_image
    from dais.training.algorithms.torch_images import media_files

    assert plan.target is not None
    paths: list[str] = table.column("path").to_pylist()
    labels: list[str | None] = table.column(plan.target).to_pylist()
    dropped = {"no label": 0, "not an image": 0, "unreadable": 0}
    kept_paths: list[str] = []
    kept_labels: list[str] = []
    for path, label in zip(paths, labels, strict=True):
        if not label:
            dropped["no label"] += 1
        elif not is_image(path):
            dropped["not an image"] += 1
        elif path in unreadable:
            dropped["unreadable"] += 1
        else:
            kept_paths.append(path)
            kept_labels.append(label)
    x = np.empty(len(kept_paths), dtype=object)
    x[:] = media_files(connector, kept_paths, timeout_s=timeout_s)
    uniques, codes = np.unique(np.asarray(kept_labels, dtype=str), return_inverse=True)
    return LoadedData(
        X=x,
        y=codes.astype(np.int64),
        feature_names=[],
        classes=[str(u) for u in uniques],
        rows_read=len(paths),
        rows_dropped=len(paths) - len(kept_paths),
        dropped={reason: n for reason, n in dropped.items() if n},
    )
