"""The demo's data: files made from scikit-learn's bundled data sets, registered in the demo workspace
through the normal path (a `file` connection and `data.register` jobs run by a worker)."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.dataset as pads
import pytest
from PIL import Image
from sqlalchemy import select

from dais.cli.demo import DEMO_CONNECTION, demo_data_root, with_demo_root
from dais.cli.demo_data import DEMO_DAYS, DIGIT_PX, write_demo_files
from dais.cli.embedded import bootstrap
from dais.core.settings import Settings
from dais.data.models import Dataset
from dais.db import Database
from dais.jobs.models import Job
from dais.storage import open_store
from tests.jobs.conftest import running_worker


@pytest.mark.slow
def test_demo_files_are_partitioned_parquet_and_digit_pngs_written_once(tmp_path: Path) -> None:
    assert write_demo_files(tmp_path) == ["breast-cancer", "digits"]
    table = pads.dataset(tmp_path / "breast-cancer", partitioning="hive").to_table()
    assert table.num_rows == 569
    assert sorted(p.name for p in (tmp_path / "breast-cancer").iterdir()) == [f"dt={d}" for d in DEMO_DAYS]
    assert {"patient_id", "mean_radius", "diagnosis"} <= set(table.column_names)
    assert set(table.column("diagnosis").to_pylist()) == {"malignant", "benign"}
    folders = sorted(p.name for p in (tmp_path / "digits").iterdir())
    assert folders == [str(d) for d in range(10)]
    assert sum(len(list((tmp_path / "digits" / f).iterdir())) for f in folders) == 1797
    with Image.open(next((tmp_path / "digits" / "7").iterdir())) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (DIGIT_PX, DIGIT_PX))
    assert write_demo_files(tmp_path) == []  # already there: nothing written again


def test_the_demo_folder_is_an_allowed_root_of_a_demo_run(settings: Settings) -> None:
    demo = with_demo_root(settings)
    assert demo.data.allowed_roots == [*settings.data.allowed_roots, demo_data_root(settings).resolve()]
    assert with_demo_root(demo) == demo
    assert "demo-data" in demo.platform_env()["DAIS_DATA_ALLOWED_ROOTS"]  # what its jobs receive


@pytest.mark.slow
def test_up_demo_registers_the_demo_datasets_through_register_jobs(settings: Settings, db: Database) -> None:
    settings = with_demo_root(settings)
    started = bootstrap(settings, db, demo=True, url="http://127.0.0.1:1/")
    assert f"connection {DEMO_CONNECTION}" in started.demo
    assert "dataset breast-cancer (registering)" in started.demo
    assert "dataset digits (registering)" in started.demo
    # A second start while the jobs still wait adds nothing.
    assert not [
        d for d in bootstrap(settings, db, demo=True, url="http://127.0.0.1:1/").demo if "dataset" in d
    ]
    with running_worker(settings, db, open_store(settings)):
        deadline = time.monotonic() + 120
        while True:
            with db.session(write=False) as s:
                states = dict(s.execute(select(Job.name, Job.state).where(Job.kind == "data.register")).all())
            if all(v in ("succeeded", "failed") for v in states.values()):
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.2)
    assert states == {"register breast-cancer": "succeeded", "register digits": "succeeded"}
    with db.session(write=False) as s:
        found = {d.name: d for d in s.scalars(select(Dataset))}
        assert found["breast-cancer"].row_count == 569
        assert len(found["breast-cancer"].partitions["partitions"]) == len(DEMO_DAYS)
        assert found["digits"].media_total == 1797
    # Registered: a later start leaves them alone.
    assert not [
        d for d in bootstrap(settings, db, demo=True, url="http://127.0.0.1:1/").demo if "dataset" in d
    ]


def test_up_demo_logs_a_real_sweep_once(settings: Settings, db: Database) -> None:
    from dais.cli.demo import DEMO_EPOCHS, DEMO_EXPERIMENT, DEMO_SWEEP
    from dais.tracking.models import Experiment, Run, RunLatestMetric, RunMetric

    settings = with_demo_root(settings)
    started = bootstrap(settings, db, demo=True, url="http://127.0.0.1:1/")
    assert f"experiment {DEMO_EXPERIMENT} ({len(DEMO_SWEEP)} runs)" in started.demo
    assert not [
        d for d in bootstrap(settings, db, demo=True, url="http://127.0.0.1:1/").demo if "experiment" in d
    ]
    with db.session(write=False) as s:
        exp = s.scalars(select(Experiment).where(Experiment.name == DEMO_EXPERIMENT)).one()
        runs = s.scalars(select(Run).where(Run.experiment_id == exp.id)).all()
        assert len(runs) == len(DEMO_SWEEP)
        assert {r.status for r in runs} == {"FINISHED"}
        points = s.scalars(
            select(RunMetric).where(RunMetric.run_id == runs[0].id, RunMetric.key == "valid_logloss")
        )
        assert len(points.all()) == DEMO_EPOCHS
        accuracy = s.scalars(select(RunLatestMetric.value).where(RunLatestMetric.key == "accuracy")).all()
        assert len(accuracy) == len(DEMO_SWEEP)
        assert max(accuracy) > 0.8
