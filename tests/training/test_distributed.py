"""Distributed data-parallel training: 2 ranks on CPU (gloo), shards, a killed rank, resuming."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any

import numpy as np
import pytest

from dais.core.errors import InvalidInput
from dais.training.algorithms.base import MetricPoint, TrainData, TrainLogger

pytest.importorskip("torch", reason="distributed training needs the torch extra (pip install 'dais[torch]')")

from dais.training.algorithms.torch_presets import MLPClassifierPreset
from dais.training.distributed import (
    DDPOptions,
    DistributedTrainingFailed,
    RankContext,
    launch,
    shard_indices,
)

pytestmark = pytest.mark.slow


def _ranks_alive() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name.startswith("dais-ddp-rank")]


class _Recorder(TrainLogger):
    """Keeps every point; optionally SIGKILLs rank ``kill_rank`` when ``kill_at`` is logged (once)."""

    def __init__(self, kill_rank: int | None = None, kill_at: int = 2) -> None:
        super().__init__(max_wait_s=0)
        self.seen: list[MetricPoint] = []
        self.kill_rank, self.kill_at, self.killed_pid, self.kill_index = kill_rank, kill_at, 0, 0

    def metric(self, key: str, value: float, step: int) -> None:
        super().metric(key, value, step)
        self.seen.append(MetricPoint(key, value, step, 0))
        if (
            self.kill_rank is not None
            and not self.killed_pid
            and key == "train_logloss"
            and step == self.kill_at
        ):
            (victim,) = [
                p for p in multiprocessing.active_children() if p.name == f"dais-ddp-rank-{self.kill_rank}"
            ]
            assert victim.pid is not None
            self.killed_pid, self.kill_index = victim.pid, len(self.steps())
            os.kill(victim.pid, signal.SIGKILL)  # what the OOM killer does

    def steps(self, key: str = "train_logloss") -> list[int]:
        return [p.step for p in self.seen if p.key == key]


@pytest.fixture(scope="module")
def data() -> TrainData:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1100, 6))
    y = (x[:, 0] + x[:, 1] - x[:, 2] > 0).astype(int)
    return TrainData(
        X=x[:1000],
        y=y[:1000],
        feature_names=[f"f{i}" for i in range(6)],
        X_valid=x[1000:],
        y_valid=y[1000:],
        classes=[0, 1],
        seed=5,
        threads=2,
    )


def test_shards_are_disjoint_equal_and_cover_every_row() -> None:
    shards = [shard_indices(10, r, 3, seed=1) for r in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]  # 10 rows over 3 ranks: padded to 12
    flat = [i for s in shards for i in s]
    assert sorted(set(flat)) == list(range(10))
    assert len(flat) - len(set(flat)) == 2
    assert shard_indices(10, 1, 3, seed=1) == shards[1]  # every rank computes the same split
    evenly = [set(shard_indices(8, r, 2)) for r in range(2)]
    assert not evenly[0] & evenly[1]
    with pytest.raises(InvalidInput):
        shard_indices(0, 0, 2)


def test_two_processes_train_on_their_own_shards_with_synced_gradients(data: TrainData) -> None:
    algo = MLPClassifierPreset()
    log = _Recorder()
    params = algo.parse_params({"epochs": 5, "processes": 2, "lr": 0.01})
    model = algo.fit(data, params, log)
    assert model.meta["training"] == {
        "processes": 2,
        "backend": "gloo",
        "attempts": 1,
        "resumed_from_epoch": None,
    }
    reports = model.launch.reports
    assert [reports[r]["rows"] for r in (0, 1)] == [500, 500]
    assert reports[0]["shard_digest"] != reports[1]["shard_digest"]  # each rank read its own rows
    # DDP all-reduced the gradients: both ranks end with the very same weights
    assert reports[0]["param_checksum"] == pytest.approx(reports[1]["param_checksum"], rel=1e-9)
    assert log.steps() == list(range(5))  # rank 0 alone logs, once per epoch, values reduced over ranks
    assert log.steps("valid_accuracy") == list(range(5))
    assert (algo.predict(model, data.X_valid) == data.y_valid).mean() > 0.9
    assert _ranks_alive() == []


def test_a_killed_rank_fails_the_run_naming_it(data: TrainData) -> None:
    algo = MLPClassifierPreset()
    log = _Recorder(kill_rank=1)
    params = algo.parse_params({"epochs": 30, "processes": 2, "batch_size": 32})
    started = time.monotonic()
    with pytest.raises(
        DistributedTrainingFailed, match=r"Rank 1 of 2 failed with exit code -9 \(killed by SIGKILL\)"
    ):
        algo.fit(data, params, log)
    assert time.monotonic() - started < 30  # rank 0 was stopped, not left waiting for its peer
    assert _ranks_alive() == []
    assert max(log.steps()) < 29


def test_a_killed_rank_resumes_from_the_last_checkpoint(data: TrainData) -> None:
    algo = MLPClassifierPreset()
    log = _Recorder(kill_rank=1)
    params = algo.parse_params({"epochs": 25, "processes": 2, "batch_size": 32, "checkpoint_every": 1})
    model = algo.fit(data, params, log)
    assert log.killed_pid
    training = model.meta["training"]
    assert training["attempts"] == 2
    resumed = training["resumed_from_epoch"]
    assert resumed is not None
    assert resumed >= 1
    steps = log.steps()
    after_kill = steps[log.kill_index :]
    assert min(after_kill) == resumed + 1  # the second attempt went on from the checkpoint, not from 0
    assert set(steps) == set(range(25))
    assert steps[-1] == 24
    assert (algo.predict(model, data.X_valid) == data.y_valid).mean() > 0.9
    assert _ranks_alive() == []


def _fail_on_rank_one(ctx: RankContext, payload: str) -> int:
    import torch.distributed as dist

    if ctx.rank == 1:
        raise ValueError(payload)
    dist.barrier()  # rank 0 waits for a peer that never comes: the launcher must stop it
    return 0


def _sleep(ctx: RankContext, seconds: float) -> None:
    time.sleep(seconds)


def test_a_rank_error_is_reported_with_its_message() -> None:
    options = DDPOptions(processes=2, collective_timeout_s=60)
    with pytest.raises(DistributedTrainingFailed) as err:
        launch(_fail_on_rank_one, "shard 7 is unreadable", options)
    assert str(err.value).startswith(
        "Rank 1 of 2 failed with exit code 1: ValueError: shard 7 is unreadable."
    )
    assert (err.value.extra["rank"], err.value.extra["exit_code"]) == (1, 1)
    assert _ranks_alive() == []


def test_a_run_past_its_time_limit_is_stopped() -> None:
    with pytest.raises(DistributedTrainingFailed, match="went past its time limit"):
        launch(_sleep, 30.0, DDPOptions(processes=2, timeout_s=0.5))
    assert _ranks_alive() == []


def test_launch_refuses_bad_options() -> None:
    with pytest.raises(InvalidInput, match="at least one process"):
        launch(_sleep, 0.0, DDPOptions(processes=0))
    with pytest.raises(InvalidInput, match="one GPU per process"):
        launch(_sleep, 0.0, DDPOptions(processes=64, backend="nccl"))


def _rank_env(ctx: RankContext, payload: Any) -> dict[str, str]:
    return {k: os.environ[k] for k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK")}


def test_ranks_get_the_torchrun_environment() -> None:
    result = launch(_rank_env, None, DDPOptions(processes=2))
    env = result.value
    assert env["MASTER_ADDR"] == "127.0.0.1"
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"]) == ("0", "2", "0")
    assert int(env["MASTER_PORT"]) > 0
    assert (result.attempts, result.backend) == (1, "gloo")
