"""Splits: holdout (stratified when it can be), k-fold, time-based; an empty side is refused naming
the field."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from dais.core.errors import InvalidInput
from dais.training.splits import EmptySplit, Split, check_sizes, make_folds, time_value

SPLIT: TypeAdapter[object] = TypeAdapter(Split)


def split(**fields: object) -> object:
    return SPLIT.validate_python(fields)


def test_holdout_is_stratified_and_reproducible() -> None:
    y = np.array([0] * 80 + [1] * 20)
    (a,) = make_folds(split(kind="holdout", valid_fraction=0.25, seed=7), 100, y=y)
    (b,) = make_folds(split(kind="holdout", valid_fraction=0.25, seed=7), 100, y=y)
    assert len(a.valid) == 25
    assert len(a.train) == 75
    assert np.bincount(y[a.valid]).tolist() == [20, 5]
    assert np.array_equal(a.valid, b.valid)
    assert not set(a.train) & set(a.valid)


def test_holdout_falls_back_to_random_when_a_class_is_too_small() -> None:
    y = np.array([0] * 9 + [1])
    (fold,) = make_folds(split(kind="holdout", valid_fraction=0.3), 10, y=y)
    assert len(fold.valid) == 3
    assert len(fold.train) == 7


def test_kfold_covers_every_row_once() -> None:
    y = np.array([0, 1] * 15)
    folds = make_folds(split(kind="kfold", k=3), 30, y=y)
    assert len(folds) == 3
    seen = np.concatenate([f.valid for f in folds])
    assert sorted(seen.tolist()) == list(range(30))
    assert all(np.bincount(y[f.valid]).tolist() == [5, 5] for f in folds)


def test_time_split_by_cutoff_and_by_fraction() -> None:
    days = np.array([time_value(f"2024-01-{d:02d}", True, ()) for d in range(1, 11)])
    days[3] = np.nan  # a row without a time is in neither side
    (fold,) = make_folds(
        split(kind="time", column="day", cutoff="2024-01-08"), 10, time=days, time_temporal=True
    )
    assert fold.train.tolist() == [0, 1, 2, 4, 5, 6]
    assert fold.valid.tolist() == [7, 8, 9]
    (fold,) = make_folds(
        split(kind="time", column="day", valid_fraction=0.3), 10, time=days, time_temporal=True
    )
    assert fold.valid.tolist() == [7, 8, 9]
    numbers = np.arange(10, dtype=float)
    (fold,) = make_folds(split(kind="time", column="t", cutoff=5), 10, time=numbers)
    assert fold.valid.tolist() == [5, 6, 7, 8, 9]


def test_time_split_takes_a_time_zone() -> None:
    utc = time_value("2024-01-01T01:00:00+01:00", True, ())
    assert utc == time_value("2024-01-01T00:00:00", True, ())


@pytest.mark.parametrize(
    ("fields", "rows", "loc"),
    [
        ({"kind": "holdout", "valid_fraction": 0.5}, 1, ["body", "split", "valid_fraction"]),
        ({"kind": "kfold", "k": 5}, 3, ["body", "split", "k"]),
        ({"kind": "holdout"}, 0, ["body", "dataset"]),
        ({"kind": "time", "column": "t", "cutoff": 100}, 10, ["body", "split", "cutoff"]),
        ({"kind": "time", "column": "t", "cutoff": -1}, 10, ["body", "split", "cutoff"]),
    ],
)
def test_an_empty_side_is_refused_naming_the_field(
    fields: dict[str, object], rows: int, loc: list[str]
) -> None:
    with pytest.raises(EmptySplit) as err:
        make_folds(split(**fields), rows, time=np.arange(rows, dtype=float))
    assert err.value.status == 422
    assert err.value.errors[0]["loc"] == loc


def test_sizes_alone_are_checked_before_reading_rows() -> None:
    check_sizes(split(kind="holdout", valid_fraction=0.2), 5)
    with pytest.raises(EmptySplit):
        check_sizes(split(kind="kfold", k=10), 9)


def test_a_bad_cutoff_names_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        make_folds(split(kind="time", column="t", cutoff="soon"), 3, time=np.zeros(3), time_temporal=True)
    assert err.value.errors[0]["loc"] == ["body", "split", "cutoff"]


def test_a_time_split_takes_one_rule() -> None:
    with pytest.raises(ValidationError):
        split(kind="time", column="t", cutoff=3, valid_fraction=0.2)
