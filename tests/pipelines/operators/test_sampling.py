from __future__ import annotations

import ibis
import pyarrow as pa
import pytest
from pydantic import ValidationError

from dais.pipelines.operators.sampling import Sample, Split
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


@pytest.fixture
def many(harness: Harness) -> ibis.Table:
    n = 1000
    return harness.table(
        {
            "id": list(range(n)),
            "label": ["a" if i % 4 == 0 else "b" for i in range(n)],
            "day": pa.array([i // 100 for i in range(n)], pa.int32()),
        }
    )


def test_random_sample_is_reproducible_with_a_seed(harness: Harness, many: ibis.Table) -> None:
    first, _ = harness.run(Sample(), {"fraction": 0.1}, {"in": many})
    again, _ = harness.run(Sample(), {"fraction": 0.1}, {"in": many})
    other, _ = harness.run(Sample(), {"fraction": 0.1, "seed": 99}, {"in": many})
    ids = sorted(first["out"].column("id").to_pylist())
    assert ids == sorted(again["out"].column("id").to_pylist())
    assert ids != sorted(other["out"].column("id").to_pylist())
    assert 50 < len(ids) < 150


def test_sample_of_n_rows_and_first_n(harness: Harness, many: ibis.Table) -> None:
    out, _ = harness.run(Sample(), {"n": 7}, {"in": many})
    assert out["out"].num_rows == 7
    out, _ = harness.run(Sample(), {"method": "first", "n": 3}, {"in": many})
    assert out["out"].num_rows == 3


def test_stratified_sample_keeps_each_stratum_share(harness: Harness, many: ibis.Table) -> None:
    out, _ = harness.run(
        Sample(), {"method": "stratified", "fraction": 0.1, "stratify_by": "label"}, {"in": many}
    )
    labels = out["out"].column("label").to_pylist()
    assert labels.count("a") == 25
    assert labels.count("b") == 75


def test_sample_params_need_a_size() -> None:
    with pytest.raises(ValidationError):
        Sample.Params.model_validate({"method": "random"})
    with pytest.raises(ValidationError):
        Sample.Params.model_validate({"method": "stratified", "fraction": 0.5})
    with pytest.raises(ValidationError):
        Sample.Params.model_validate({"fraction": 1.5})


def test_sample_names_an_unknown_stratum_column(many: ibis.Table) -> None:
    params = {"method": "stratified", "fraction": 0.5, "stratify_by": "nope"}
    assert param_error(Sample(), params, {"in": schema_of(many)}) == "stratify_by"


def test_random_split_partitions_the_rows(harness: Harness, many: ibis.Table) -> None:
    out, _ = harness.run(Split(), {"train_ratio": 0.7}, {"in": many})
    train, test = out["train"].column("id").to_pylist(), out["test"].column("id").to_pylist()
    assert sorted(train + test) == list(range(1000))
    assert 620 < len(train) < 780


def test_stratified_split_is_exact_per_stratum(harness: Harness, many: ibis.Table) -> None:
    out, _ = harness.run(
        Split(), {"method": "stratified", "stratify_by": "label", "train_ratio": 0.8}, {"in": many}
    )
    labels = out["train"].column("label").to_pylist()
    assert labels.count("a") == 200
    assert labels.count("b") == 600


def test_time_split_by_ratio_and_by_cutoff(harness: Harness, many: ibis.Table) -> None:
    out, _ = harness.run(Split(), {"method": "time", "time_column": "day", "train_ratio": 0.3}, {"in": many})
    assert max(out["train"].column("day").to_pylist()) < min(out["test"].column("day").to_pylist())
    harness.ctx.variables = {"cut": "4"}
    out, _ = harness.run(Split(), {"method": "time", "time_column": "day", "cutoff": "${cut}"}, {"in": many})
    assert out["train"].num_rows == 400


def test_time_split_refuses_a_cutoff_of_the_wrong_type(harness: Harness) -> None:
    t = harness.table({"d": pa.array([None], pa.date32())})
    params = {"method": "time", "time_column": "d", "cutoff": "yesterday"}
    assert param_error(Split(), params, {"in": schema_of(t)}) == "cutoff"
