"""Preprocessing benchmark: impute (mean) + standard scale + one-hot, fit and transform, write parquet.

5M rows (10 numeric columns with 5% nulls, 3 categorical columns with 50 levels, 1 label) from parquet,
run through Dais's pipeline runner with the real operators (each engine), against pandas +
scikit-learn (SimpleImputer, StandardScaler, OneHotEncoder in a ColumnTransformer) and hand-written
DuckDB SQL and Polars lazy code doing the same. Each system runs in a child process of its own; its
time is measured inside the child after imports (the work itself: read, fit, transform, write), its
peak memory is the child's peak RSS (``os.wait4``). Also times a debug run of the same pipeline on a
1000-row sample (from the runner's call to every node's sample, modules already imported).

    python bench/pipelines/bench_preprocess.py                # prints a table, writes RESULTS.md's section
    python bench/pipelines/bench_preprocess.py --rows 1000000 --no-results
    python bench/pipelines/bench_preprocess.py --repeat 2     # best of 2 rounds (a loaded machine)

Also reported: the CPU seconds of the work (user + system, all threads of the child), steadier than
wall time when other processes share the machine, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

NUM = [f"x{i}" for i in range(10)]
CAT = [f"c{i}" for i in range(3)]
LEVELS = [f"level_{j:02d}" for j in range(50)]
SYSTEMS = ["sklearn", "dais-duckdb", "dais-polars", "duckdb-sql", "polars-lazy"]


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    cols = {}
    for i, name in enumerate(NUM):
        cols[name] = pa.array(rng.normal(i, 1 + i, rows), mask=rng.random(rows) < 0.05)
    levels = np.array(LEVELS)
    for name in CAT:
        cols[name] = pa.array(levels[rng.integers(0, len(LEVELS), rows)])
    cols["label"] = pa.array(rng.integers(0, 2, rows))
    pq.write_table(pa.table(cols), str(path), row_group_size=500_000)


def graph() -> object:
    from dais.pipelines.graph import PipelineGraph

    return PipelineGraph.model_validate(
        {
            "nodes": [
                {"id": "source", "operator": "source", "params": {"dataset": "bench_in"}},
                {"id": "impute", "operator": "impute", "params": {"columns": NUM, "strategy": "mean"}},
                {"id": "scale", "operator": "scale", "params": {"columns": NUM, "method": "standard"}},
                {"id": "one_hot", "operator": "one_hot", "params": {"columns": CAT}},
                {"id": "sink", "operator": "sink", "params": {"dataset": "bench_out"}},
            ],
            "edges": [
                {"source": "source", "target": "impute"},
                {"source": "impute", "target": "scale"},
                {"source": "scale", "target": "one_hot"},
                {"source": "one_hot", "target": "sink"},
            ],
        }
    )


# -- the systems (each runs in a child process) ------------------------------------------------------


def _cpu(start: os.times_result) -> float:
    """CPU seconds (user + system, all threads) of this process since ``start``: steadier than wall time
    on a loaded machine."""
    now = os.times()
    return now.user - start.user + now.system - start.system


def run_sklearn(src: Path, out: Path) -> dict[str, object]:
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    t0, cpu0 = time.perf_counter(), os.times()
    df = pd.read_parquet(src)
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), NUM),
            ("cat", OneHotEncoder(sparse_output=False, dtype=np.int8, handle_unknown="ignore"), CAT),
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    ct.set_output(transform="pandas")
    result = ct.fit_transform(df)
    result.to_parquet(out / "part-0.parquet")
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu(cpu0), "columns": result.shape[1]}


def run_dais(src: Path, out: Path, engine: str, mode: str = "full") -> dict[str, object]:
    from dais.pipelines.datasets import ParquetFolderResolver
    from dais.pipelines.runner import FolderSinkWriter, run_pipeline

    datasets = src.parent.parent.parent
    g = graph()
    t0, cpu0 = time.perf_counter(), os.times()
    result = run_pipeline(
        g,  # type: ignore[arg-type]
        engine=engine,
        resolver=ParquetFolderResolver(datasets),
        sink_writer=FolderSinkWriter(out),
        mode=mode,  # type: ignore[arg-type]
        sample_rows=1000,
    )
    seconds, cpu = time.perf_counter() - t0, _cpu(cpu0)
    if result.status != "succeeded":
        raise SystemExit(json.dumps({n: r.error for n, r in result.nodes.items() if r.error}))
    nodes = {n: r.duration_s for n, r in result.nodes.items()}
    return {"seconds": seconds, "cpu": cpu, "nodes": nodes}


def run_duckdb_sql(src: Path, out: Path) -> dict[str, object]:
    import duckdb

    t0, cpu0 = time.perf_counter(), os.times()
    con = duckdb.connect(config={"preserve_insertion_order": False})
    scan = f"read_parquet('{src}')"
    aggs = ", ".join(f"avg({c}), var_pop({c}), count({c})" for c in NUM)
    row = con.execute(f"SELECT {aggs}, count(*) FROM {scan}").fetchall()[0]  # noqa: S608
    total = row[-1]
    sel = []
    for i, c in enumerate(NUM):
        mean, var, n = row[3 * i : 3 * i + 3]
        sd = (var * n / total) ** 0.5 or 1.0
        sel.append(f"(coalesce({c}, {mean}) - {mean}) / {sd} AS {c}")
    for c in CAT:
        levels = [
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT {c} FROM {scan} WHERE {c} IS NOT NULL ORDER BY 1"  # noqa: S608
            ).fetchall()
        ]
        sel += [f"CAST(coalesce({c} = '{v}', false) AS TINYINT) AS \"{c}_{v}\"" for v in levels]
    sel.append("label")
    con.execute(f"COPY (SELECT {', '.join(sel)} FROM {scan}) TO '{out}/part-0.parquet' (FORMAT parquet)")  # noqa: S608
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu(cpu0)}


def run_polars(src: Path, out: Path) -> dict[str, object]:
    import polars as pl

    t0, cpu0 = time.perf_counter(), os.times()
    lf = pl.scan_parquet(src)
    stats = (
        lf.select(
            [pl.col(c).mean().alias(f"m{c}") for c in NUM]
            + [pl.col(c).var(ddof=0).alias(f"v{c}") for c in NUM]
            + [pl.col(c).count().alias(f"n{c}") for c in NUM]
            + [pl.len().alias("n")]
        )
        .collect()
        .row(0, named=True)
    )
    exprs = []
    for c in NUM:
        mean, sd = stats[f"m{c}"], (stats[f"v{c}"] * stats[f"n{c}"] / stats["n"]) ** 0.5 or 1.0
        exprs.append(((pl.col(c).fill_null(mean) - mean) / sd).alias(c))
    for c in CAT:
        levels = sorted(lf.select(pl.col(c).drop_nulls().unique()).collect()[c].to_list())
        exprs += [(pl.col(c) == v).fill_null(False).cast(pl.Int8).alias(f"{c}_{v}") for v in levels]
    exprs.append(pl.col("label"))
    lf.select(exprs).sink_parquet(out / "part-0.parquet")
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu(cpu0)}


def child(system: str, src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if system == "sklearn":
        result = run_sklearn(src, out)
    elif system.startswith("dais-debug-"):
        run_dais(src, out, system.removeprefix("dais-debug-"), "debug")  # warm-up: first compile paths
        result = run_dais(src, out, system.removeprefix("dais-debug-"), "debug")
    elif system.startswith("dais-"):
        result = run_dais(src, out, system.removeprefix("dais-"))
    elif system == "duckdb-sql":
        result = run_duckdb_sql(src, out)
    else:
        result = run_polars(src, out)
    print("RESULT " + json.dumps(result), flush=True)


def measure(system: str, src: Path, out: Path, prefix: list[str]) -> dict[str, object]:
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    cmd = [*prefix, sys.executable, __file__, "--child", system, "--src", str(src), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{system} failed ({status}): {stdout[-2000:]}")
    line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return {**result, "wall": wall, "peak_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--workdir", default="/tmp/dais-bench-pipelines")  # noqa: S108
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--cores", default=None, help="pin children to these cores (taskset -c)")
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument("--note", default="")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each system's best is reported")
    parser.add_argument("--generate")
    parser.add_argument("--child")
    parser.add_argument("--src")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.rows)
        return
    if args.child:
        child(args.child, Path(args.src), Path(args.out))
        return
    work = Path(args.workdir)
    src = work / f"datasets-{args.rows}" / "bench_in" / "v1" / "part-0.parquet"
    if not src.exists():
        print(f"generating {args.rows:,} rows ...", flush=True)
        # in a child: a forked child starts with its parent's peak RSS, so the parent must stay small
        subprocess.run(
            [sys.executable, __file__, "--generate", str(src), "--rows", str(args.rows)], check=True
        )
    prefix = ["taskset", "-c", args.cores] if args.cores else []
    systems = [s for s in args.systems.split(",") if s]
    debug_engines = [s.removeprefix("dais-") for s in systems if s.startswith("dais-")]
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, object]]] = {}
    for _ in range(args.repeat):  # rounds over every system, so that load changes hit them alike
        for system in systems + [f"dais-debug-{e}" for e in debug_engines]:
            r = measure(system, src, work / "out" / system, prefix)
            runs.setdefault(system, []).append(r)
            print(system, json.dumps(r), flush=True)
    load_after = os.getloadavg()
    best = {k: min(v, key=lambda r: float(r["seconds"])) for k, v in runs.items()}  # type: ignore[arg-type]
    results = {k: best[k] for k in systems}
    debug = {e: best[f"dais-debug-{e}"] for e in debug_engines}
    base = results.get("sklearn")
    lines = [
        "| system | seconds (work) | CPU s (work) | process wall s | peak RSS MB | speed vs pandas+sklearn "
        "| CPU vs pandas+sklearn | memory vs pandas+sklearn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for system, r in results.items():
        sec, cpu, mb = float(r["seconds"]), float(r["cpu"]), float(r["peak_mb"])  # type: ignore[arg-type]
        speed = f"{float(base['seconds']) / sec:.2f}x" if base else "-"  # type: ignore[arg-type]
        cpu_ratio = f"{float(base['cpu']) / cpu:.2f}x" if base else "-"  # type: ignore[arg-type]
        mem = f"{mb / float(base['peak_mb']):.2f}" if base else "-"  # type: ignore[arg-type]
        lines.append(
            f"| {system} | {sec:.2f} | {cpu:.2f} | {float(r['wall']):.2f} | {mb:.0f} | {speed} "  # type: ignore[arg-type]
            f"| {cpu_ratio} | {mem} |"
        )
    for engine, r in debug.items():
        label = f"dais-{engine} debug run (1000-row sample)"
        lines.append(
            f"| {label} | {float(r['seconds']):.2f} | | {float(r['wall']):.2f} "  # type: ignore[arg-type]
            f"| {float(r['peak_mb']):.0f} | | | |"  # type: ignore[arg-type]
        )
    table = "\n".join(lines)
    print(table)
    load = f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    print(load)
    if args.no_results:
        return
    cmd = shlex.join(["python", "bench/pipelines/bench_preprocess.py", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.cores:
        machine += f", children pinned to cores {args.cores}"
    repeat = f" Best of {args.repeat} rounds (by work seconds)." if args.repeat > 1 else ""
    section = (
        f"## Pipelines: impute + scale + one-hot on {args.rows:,} rows vs pandas + scikit-learn "
        f"({date.today()})\n\n"
        f"Machine: {machine} ({load}). Command: `{cmd}`.{repeat} {args.note}\n\n{table}\n"
    )
    write_section(Path(__file__).resolve().parents[1] / "RESULTS.md", section)


def write_section(results_md: Path, section: str) -> None:
    """Replace this benchmark's section of RESULTS.md (from its "## Pipelines" heading to the next
    "## " heading), or append one."""
    text = results_md.read_text() if results_md.exists() else ""
    start = text.find("## Pipelines")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        rest = text[end + 1 :] if end >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    results_md.write_text(text)


if __name__ == "__main__":
    main()
