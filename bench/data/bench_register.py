"""Registering a big partitioned parquet dataset: Dais's inspection against pandas reading it.

Generates (once, cached under --data-dir) a date-partitioned parquet dataset: --rows rows in --files
files under ``dt=YYYY-MM-DD`` folders (two files per day), one row group per file. Then times
``dais.data.inspect.inspect_source`` -- what registering does: list the files, read the schema and
one row group's first pages for the 100-row sample, sum the parquet footers for the row count,
detect partitions, fingerprint -- on local disk and on moto S3 (moto_server on a free loopback
port), and ``pandas.read_parquet`` of the same folder. Prints a table and appends it to
bench/RESULTS.md.

    .venv/bin/python bench/data/bench_register.py                  # 100M rows, ~200 files
    .venv/bin/python bench/data/bench_register.py --rows 2000000 --no-results   # a quick try
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from dais.core.settings import DataSettings  # noqa: E402
from dais.data.connectors.base import Connector, NoSecrets  # noqa: E402
from dais.data.connectors.file import FileConfig, FileConnector  # noqa: E402
from dais.data.inspect import inspect_source  # noqa: E402
from dais.data.source import Inspection, SourceSpec  # noqa: E402

CATEGORIES = np.array(["books", "games", "music", "garden", "tools", "toys", "food", "sport"])
COUNTRIES = np.array(["de", "fr", "es", "it", "nl", "pl", "se", "pt", "ie", "gr", "at", "be"])


def generate(folder: Path, rows: int, files: int) -> Path:
    """The dataset under ``folder/events`` (reused when a marker says it has these rows and files)."""
    target = folder / "events"
    marker = folder / f"events.{rows}.{files}.done"
    if marker.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    rng = np.random.default_rng(7)
    per_file = rows // files
    start = date(2024, 1, 1)
    t0 = time.perf_counter()
    for i in range(files):
        n = per_file + (1 if i < rows % files else 0)
        day = start + timedelta(days=i // 2)
        base = datetime(day.year, day.month, day.day)
        ts = np.datetime64(base, "us") + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")
        first_id = i * per_file + min(i, rows % files)
        table = pa.table(
            {
                "event_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
                "ts": pa.array(np.sort(ts)),
                "user_id": pa.array(rng.integers(0, 5_000_000, n, dtype=np.int32)),
                "category": pa.array(CATEGORIES[rng.integers(0, len(CATEGORIES), n)]),
                "country": pa.array(COUNTRIES[rng.integers(0, len(COUNTRIES), n)]),
                "amount": pa.array(np.round(rng.gamma(2.0, 20.0, n), 2)),
                "quantity": pa.array(rng.integers(1, 10, n, dtype=np.int16)),
            }
        )
        out = target / f"dt={day.isoformat()}"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out / f"part-{i % 2:05d}.parquet", row_group_size=n, compression="snappy")
        if i % 20 == 19:
            print(f"  generated {i + 1}/{files} files ({time.perf_counter() - t0:.0f} s)", flush=True)
    marker.touch()
    return target


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def time_inspect(connector: Connector, path: str, repeats: int) -> tuple[list[float], Inspection]:
    times: list[float] = []
    inspection: Inspection | None = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        inspection = inspect_source(
            connector, SourceSpec(path=path), sample_rows=100, sample_max_bytes=1024 * 1024, timeout_s=120
        )
        times.append(time.perf_counter() - t0)
    assert inspection is not None
    return times, inspection


def time_pandas(path: str, storage_options: dict[str, Any] | None = None) -> tuple[float, int]:
    import pandas as pd  # type: ignore[import-untyped]

    t0 = time.perf_counter()
    frame = pd.read_parquet(path, storage_options=storage_options)
    elapsed = time.perf_counter() - t0
    rows = len(frame)
    del frame
    return elapsed, rows


class Moto:
    """moto_server on a free loopback port, for as long as the ``with`` block lasts."""

    def __enter__(self) -> Moto:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        exe = Path(sys.executable).with_name("moto_server")
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):  # noqa: S310
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def s3_connector(moto: Moto, bucket: str) -> Connector:
    from dais.data.connectors.s3 import S3Config, S3Connector, S3Secrets

    config = S3Config(bucket=bucket, endpoint_url=moto.endpoint, region="us-east-1")
    secrets = S3Secrets(access_key_id="testing", secret_access_key="testing")  # noqa: S106 - moto's
    return S3Connector(config, secrets, settings=DataSettings())


def upload(moto: Moto, local: Path, bucket: str, files: int | None) -> tuple[int, int, float]:
    """Copy the dataset (or its first ``files`` files) to ``bucket/events``; (files, bytes, seconds)."""
    import boto3  # type: ignore[import-untyped]

    boto3.client(
        "s3", endpoint_url=moto.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)  # fmt: skip
    s3 = pafs.S3FileSystem(
        endpoint_override=f"127.0.0.1:{moto.port}", scheme="http", access_key="testing",
        secret_key="testing", region="us-east-1",  # noqa: S106 - moto's
    )  # fmt: skip
    chosen = sorted(local.rglob("*.parquet"))[:files] if files else sorted(local.rglob("*.parquet"))
    t0 = time.perf_counter()
    for path in chosen:
        rel = path.relative_to(local).as_posix()
        pafs.copy_files(str(path), f"{bucket}/events/{rel}", pafs.LocalFileSystem(), s3)
    return len(chosen), sum(p.stat().st_size for p in chosen), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--data-dir", default="/tmp/dais-bench-data")  # noqa: S108 - a cache, by request
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--s3-files", type=int, default=0, help="upload only this many files to moto (0: all)"
    )
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()

    load_at_start = os.getloadavg()[1]
    data_dir = Path(args.data_dir) / f"{args.rows}-{args.files}"
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"Dataset: {args.rows:,} rows in {args.files} files under {data_dir}")
    local = generate(data_dir, args.rows, args.files)
    size = du(local)
    rows: list[tuple[str, str, str, str]] = []
    notes: list[str] = []

    connector = FileConnector(
        FileConfig(root=str(data_dir)), NoSecrets(), settings=DataSettings(allowed_roots=[data_dir])
    )
    times, inspection = time_inspect(connector, "events", args.repeats)
    assert inspection.row_count == args.rows, inspection.row_count
    assert len(inspection.partitions.partitions) == (args.files + 1) // 2
    local_best = statistics.median(times)
    rows.append(("Dais inspect_source, local disk", f"{times[0]:.3f}", f"{local_best:.3f}", "-"))
    print(f"local inspect: first {times[0]:.3f} s, median {local_best:.3f} s")

    if not args.no_pandas:
        elapsed, n = time_pandas(str(local))
        assert n == args.rows
        rows.append(
            (
                "pandas.read_parquet, local disk",
                f"{elapsed:.3f}",
                f"{elapsed:.3f}",
                f"{elapsed / local_best:.0f}x",
            )
        )
        rows[0] = (*rows[0][:3], "1x")
        print(f"pandas local: {elapsed:.3f} s")

    if not args.no_s3:
        with Moto() as moto:
            bucket = "dais-bench"
            n_files, n_bytes, up = upload(moto, local, bucket, args.s3_files or None)
            print(f"uploaded {n_files} files ({n_bytes / 1e9:.2f} GB) to moto in {up:.1f} s")
            s3 = s3_connector(moto, bucket)
            times, inspection = time_inspect(s3, "events", args.repeats)
            s3_rows = inspection.row_count or 0
            s3_best = statistics.median(times)
            label = "Dais inspect_source, moto S3" + ("" if n_files == args.files else f" ({n_files} files)")
            pandas_ratio = "-"
            if not args.no_pandas:
                opts: dict[str, Any] = {
                    "key": "testing", "secret": "testing",
                    "client_kwargs": {"endpoint_url": moto.endpoint, "region_name": "us-east-1"},
                }  # fmt: skip
                elapsed, n = time_pandas(f"s3://{bucket}/events", storage_options=opts)
                assert n == s3_rows
                pandas_ratio = "1x"
                rows.append((label, f"{times[0]:.3f}", f"{s3_best:.3f}", pandas_ratio))
                peer = label.replace("Dais inspect_source", "pandas.read_parquet (s3fs)")
                rows.append((peer, f"{elapsed:.3f}", f"{elapsed:.3f}", f"{elapsed / s3_best:.0f}x"))
            else:
                rows.append((label, f"{times[0]:.3f}", f"{s3_best:.3f}", pandas_ratio))
            print(f"s3 inspect: first {times[0]:.3f} s, median {s3_best:.3f} s ({s3_rows:,} rows)")
            if n_files != args.files:
                notes.append(
                    f"S3 holds the first {n_files} of the {args.files} files ({s3_rows:,} rows): uploading "
                    "everything to moto takes too long for one run."
                )

    header = ("what", "first run s", f"median of {args.repeats} s", "time vs Dais")
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    print()
    print("\n".join(table))
    if args.no_results:
        return
    load = os.getloadavg()[1]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load_at_start:.1f} at the start and {load:.1f} at the end (5 min)"
    )
    command = "python bench/data/bench_register.py " + " ".join(sys.argv[1:])
    lines = [
        "",
        f"## Data: registering {args.rows:,} rows of partitioned parquet ({date.today().isoformat()})",
        "",
        f"Machine: {machine}. Command: `{command.strip()}`. Dataset: {args.rows:,} rows, {args.files} files "
        f"({size / 1e9:.2f} GB snappy parquet, one row group per file) in {(args.files + 1) // 2} "
        '`dt=YYYY-MM-DD` folders. "Registered" = `inspect_source`: listing, schema, partitions with '
        "file counts and sizes, a 100-row sample with column statistics, the row count (sum of the "
        "parquet footers) and a fingerprint. pandas reads every row into memory.",
        "",
        *table,
        "",
        *notes,
    ]
    with (ROOT / "bench" / "RESULTS.md").open("a") as f:
        f.write("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    main()
