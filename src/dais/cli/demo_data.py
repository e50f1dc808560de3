"""Demo content: the classic iris measurements (Fisher, 1936; UCI Machine Learning Repository), and
files made from scikit-learn's bundled data sets (nothing is downloaded) for the demo's datasets.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

# Per species: 50 flowers as `sepal_length sepal_width petal_length petal_width`, `;`-separated.
_IRIS: dict[str, str] = {
    "setosa": (
        "5.1 3.5 1.4 0.2;4.9 3.0 1.4 0.2;4.7 3.2 1.3 0.2;4.6 3.1 1.5 0.2;5.0 3.6 1.4 0.2;5.4 3.9 1.7 0.4;"
        "4.6 3.4 1.4 0.3;5.0 3.4 1.5 0.2;4.4 2.9 1.4 0.2;4.9 3.1 1.5 0.1;5.4 3.7 1.5 0.2;4.8 3.4 1.6 0.2;"
        "4.8 3.0 1.4 0.1;4.3 3.0 1.1 0.1;5.8 4.0 1.2 0.2;5.7 4.4 1.5 0.4;5.4 3.9 1.3 0.4;5.1 3.5 1.4 0.3;"
        "5.7 3.8 1.7 0.3;5.1 3.8 1.5 0.3;5.4 3.4 1.7 0.2;5.1 3.7 1.5 0.4;4.6 3.6 1.0 0.2;5.1 3.3 1.7 0.5;"
        "4.8 3.4 1.9 0.2;5.0 3.0 1.6 0.2;5.0 3.4 1.6 0.4;5.2 3.5 1.5 0.2;5.2 3.4 1.4 0.2;4.7 3.2 1.6 0.2;"
        "4.8 3.1 1.6 0.2;5.4 3.4 1.5 0.4;5.2 4.1 1.5 0.1;5.5 4.2 1.4 0.2;4.9 3.1 1.5 0.1;5.0 3.2 1.2 0.2;"
        "5.5 3.5 1.3 0.2;4.9 3.1 1.5 0.1;4.4 3.0 1.3 0.2;5.1 3.4 1.5 0.2;5.0 3.5 1.3 0.3;4.5 2.3 1.3 0.3;"
        "4.4 3.2 1.3 0.2;5.0 3.5 1.6 0.6;5.1 3.8 1.9 0.4;4.8 3.0 1.4 0.3;5.1 3.8 1.6 0.2;4.6 3.2 1.4 0.2;"
        "5.3 3.7 1.5 0.2;5.0 3.3 1.4 0.2"
    ),
    "versicolor": (
        "7.0 3.2 4.7 1.4;6.4 3.2 4.5 1.5;6.9 3.1 4.9 1.5;5.5 2.3 4.0 1.3;6.5 2.8 4.6 1.5;5.7 2.8 4.5 1.3;"
        "6.3 3.3 4.7 1.6;4.9 2.4 3.3 1.0;6.6 2.9 4.6 1.3;5.2 2.7 3.9 1.4;5.0 2.0 3.5 1.0;5.9 3.0 4.2 1.5;"
        "6.0 2.2 4.0 1.0;6.1 2.9 4.7 1.4;5.6 2.9 3.6 1.3;6.7 3.1 4.4 1.4;5.6 3.0 4.5 1.5;5.8 2.7 4.1 1.0;"
        "6.2 2.2 4.5 1.5;5.6 2.5 3.9 1.1;5.9 3.2 4.8 1.8;6.1 2.8 4.0 1.3;6.3 2.5 4.9 1.5;6.1 2.8 4.7 1.2;"
        "6.4 2.9 4.3 1.3;6.6 3.0 4.4 1.4;6.8 2.8 4.8 1.4;6.7 3.0 5.0 1.7;6.0 2.9 4.5 1.5;5.7 2.6 3.5 1.0;"
        "5.5 2.4 3.8 1.1;5.5 2.4 3.7 1.0;5.8 2.7 3.9 1.2;6.0 2.7 5.1 1.6;5.4 3.0 4.5 1.5;6.0 3.4 4.5 1.6;"
        "6.7 3.1 4.7 1.5;6.3 2.3 4.4 1.3;5.6 3.0 4.1 1.3;5.5 2.5 4.0 1.3;5.5 2.6 4.4 1.2;6.1 3.0 4.6 1.4;"
        "5.8 2.6 4.0 1.2;5.0 2.3 3.3 1.0;5.6 2.7 4.2 1.3;5.7 3.0 4.2 1.2;5.7 2.9 4.2 1.3;6.2 2.9 4.3 1.3;"
        "5.1 2.5 3.0 1.1;5.7 2.8 4.1 1.3"
    ),
    "virginica": (
        "6.3 3.3 6.0 2.5;5.8 2.7 5.1 1.9;7.1 3.0 5.9 2.1;6.3 2.9 5.6 1.8;6.5 3.0 5.8 2.2;7.6 3.0 6.6 2.1;"
        "4.9 2.5 4.5 1.7;7.3 2.9 6.3 1.8;6.7 2.5 5.8 1.8;7.2 3.6 6.1 2.5;6.5 3.2 5.1 2.0;6.4 2.7 5.3 1.9;"
        "6.8 3.0 5.5 2.1;5.7 2.5 5.0 2.0;5.8 2.8 5.1 2.4;6.4 3.2 5.3 2.3;6.5 3.0 5.5 1.8;7.7 3.8 6.7 2.2;"
        "7.7 2.6 6.9 2.3;6.0 2.2 5.0 1.5;6.9 3.2 5.7 2.3;5.6 2.8 4.9 2.0;7.7 2.8 6.7 2.0;6.3 2.7 4.9 1.8;"
        "6.7 3.3 5.7 2.1;7.2 3.2 6.0 1.8;6.2 2.8 4.8 1.8;6.1 3.0 4.9 1.8;6.4 2.8 5.6 2.1;7.2 3.0 5.8 1.6;"
        "7.4 2.8 6.1 1.9;7.9 3.8 6.4 2.0;6.4 2.8 5.6 2.2;6.3 2.8 5.1 1.5;6.1 2.6 5.6 1.4;7.7 3.0 6.1 2.3;"
        "6.3 3.4 5.6 2.4;6.4 3.1 5.5 1.8;6.0 3.0 4.8 1.8;6.9 3.1 5.4 2.1;6.7 3.1 5.6 2.4;6.9 3.1 5.1 2.3;"
        "5.8 2.7 5.1 1.9;6.8 3.2 5.9 2.3;6.7 3.3 5.7 2.5;6.7 3.0 5.2 2.3;6.3 2.5 5.0 1.9;6.5 3.0 5.2 2.0;"
        "6.2 3.4 5.4 2.3;5.9 3.0 5.1 1.8"
    ),
}


def iris_csv() -> bytes:
    """The 150 iris flowers as CSV with a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
    for species, flowers in _IRIS.items():
        for flower in flowers.split(";"):
            writer.writerow([*flower.split(), species])
    return buf.getvalue().encode()


# -- files for the demo's data connection: written once into DAIS_HOME/demo-data ------------------------

DEMO_DAYS = ("2024-06-01", "2024-06-02", "2024-06-03", "2024-06-04", "2024-06-05")
"""The ``dt=`` partitions of the demo's tabular dataset."""
TABULAR_FOLDER = "breast-cancer"
IMAGES_FOLDER = "digits"
DIGIT_PX = 32
"""Side of a rendered digit in pixels (scikit-learn's digits are 8x8)."""


def write_breast_cancer_parquet(folder: Path) -> int:
    """Scikit-learn's bundled breast-cancer measurements as date-partitioned parquet.

    The 569 rows are dealt round-robin over :data:`DEMO_DAYS` into ``dt=YYYY-MM-DD/part-0.parquet``
    files, with snake_case column names and a ``diagnosis`` column (``malignant`` or ``benign``).
    Returns the number of rows written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    names = [str(n).replace(" ", "_") for n in bunch.feature_names]
    diagnosis = [str(bunch.target_names[t]) for t in bunch.target]
    days = len(DEMO_DAYS)
    for i, day in enumerate(DEMO_DAYS):
        rows = list(range(i, len(diagnosis), days))
        columns: dict[str, pa.Array] = {
            "patient_id": pa.array(rows, type=pa.int64()),
            **{name: pa.array(bunch.data[rows, j], type=pa.float64()) for j, name in enumerate(names)},
            "diagnosis": pa.array([diagnosis[r] for r in rows], type=pa.string()),
        }
        part = folder / f"dt={day}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), part / "part-0.parquet")
    return len(diagnosis)


def write_digit_images(folder: Path, *, size: int = DIGIT_PX) -> int:
    """Scikit-learn's bundled 8x8 handwritten digits as ``size``x``size`` grayscale PNG files.

    One folder per class (``0/`` .. ``9/``), so the folder name is each image's label; ink is dark on
    a white ground. Returns the number of images written.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    for label in range(10):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
    for i, (pixels, label) in enumerate(zip(bunch.images, bunch.target, strict=True)):
        gray = (255 - pixels * (255 / 16)).clip(0, 255).astype("uint8")
        image = Image.fromarray(gray, mode="L").resize((size, size), Image.Resampling.BICUBIC)
        image.save(folder / str(int(label)) / f"digit-{i:04d}.png")
    return len(bunch.target)


def write_demo_files(root: Path) -> list[str]:
    """The demo's data files under ``root``, each folder written once; returns the folders written.

    Each folder is written under a temporary name and renamed into place, so a folder that exists
    is complete (an interrupted run leaves only a temporary folder, replaced next time).
    """
    root.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for name, writer in ((TABULAR_FOLDER, write_breast_cancer_parquet), (IMAGES_FOLDER, write_digit_images)):
        target = root / name
        if target.exists():
            continue
        tmp = root / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        writer(tmp)
        tmp.rename(target)
        written.append(name)
    return written
