"""Heavy job kinds fork from a launcher that preloaded their libraries; light kinds stay light."""

from __future__ import annotations

from pathlib import Path

import pytest

from dais.jobs.executors.local import LocalExecutor


def _loaded(pid: int, needle: str) -> bool:
    return needle in Path(f"/proc/{pid}/maps").read_text()


def test_platform_kinds_share_one_warm_group_and_light_kinds_have_none() -> None:
    executor = LocalExecutor()
    group = executor._preload("pipeline.run")
    assert "dais.pipelines.runner" in group
    assert "dais.data.inspect" in group
    assert executor._preload("data.register") == group  # one launcher for the whole platform group
    assert executor._preload("noop") == ()
    assert executor._preload("script") == ()
    assert executor._preload("no-such-kind") == ()


@pytest.mark.slow
def test_the_warm_launcher_has_the_heavy_libraries_loaded_and_the_light_one_does_not() -> None:
    executor = LocalExecutor()
    try:
        warm = executor._zygote_alive(executor._preload("pipeline.run"))
        light = executor._zygote_alive(())
        assert warm is not light
        assert _loaded(warm.proc.pid, "duckdb")
        assert _loaded(warm.proc.pid, "libarrow")
        assert not _loaded(light.proc.pid, "duckdb")
        assert not _loaded(light.proc.pid, "libarrow")
    finally:
        executor.close()
