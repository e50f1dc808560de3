"""How rows are split for training and validation.

- ``holdout``: a random share of rows (``valid_fraction``) is kept for validation, stratified by
  class for classification when every class can be;
- ``kfold``: ``k`` folds; each fold is validated by a model trained on the others, metrics are
  averaged (each fold's are logged too), and the final model is refit on every row;
- ``time``: rows before a cut-off (a date, a time or a number in ``column``) train, the rest
  validate; or the last ``valid_fraction`` of rows by time validate;
- ``none``: every row trains and metrics are computed on the training rows (clustering's default).

A split that leaves either side empty is refused with an error naming the field, before anything
trains: :func:`check_sizes` needs only the row count (the API checks it before submitting a job),
:func:`make_folds` checks the actual rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

Loc = tuple[str | int, ...]


class EmptySplit(InvalidInput):
    """A split leaves no rows to train on or none to validate on."""

    code = "empty_split"
    title = "The split leaves no rows on one side"


class HoldoutSplit(BaseModel):
    """A random share of rows for validation."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["holdout"] = "holdout"
    valid_fraction: float = Field(default=0.2, gt=0, lt=1, description="Share of rows kept for validation.")
    seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Seed of the random draw.")
    stratify: bool = Field(default=True, description="Keep class proportions (classification).")


class KFoldSplit(BaseModel):
    """``k`` folds, each validated by a model trained on the others; the final model sees all rows."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["kfold"]
    k: int = Field(default=5, ge=2, le=50, description="Number of folds.")
    seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Seed of the shuffle.")
    shuffle: bool = Field(default=True, description="Shuffle rows before cutting folds.")
    stratify: bool = Field(default=True, description="Keep class proportions in folds (classification).")


class TimeSplit(BaseModel):
    """Rows before a cut-off train; the rest validate."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["time"]
    column: str = Field(min_length=1, max_length=256, description="A date, time or numeric column.")
    cutoff: str | float | None = Field(
        default=None,
        description="Rows with a value at or after this (ISO date/time, or a number) validate.",
    )
    valid_fraction: float | None = Field(
        default=None, gt=0, lt=1, description="Or: the latest share of rows by time validates."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> TimeSplit:
        if self.cutoff is not None and self.valid_fraction is not None:
            raise ValueError("give at most one of `cutoff` and `valid_fraction`")
        if self.cutoff is None and self.valid_fraction is None:
            self.valid_fraction = 0.2
        return self


class NoSplit(BaseModel):
    """Every row trains; metrics are computed on the training rows."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["none"]


Split = Annotated[HoldoutSplit | KFoldSplit | TimeSplit | NoSplit, Field(discriminator="kind")]


@dataclass
class Fold:
    """Row positions that train and row positions that validate."""

    train: np.ndarray
    valid: np.ndarray


def _empty(message: str, loc: Loc) -> EmptySplit:
    return EmptySplit(message, errors=[{"loc": list(loc), "msg": message}])


def holdout_sizes(n: int, fraction: float) -> tuple[int, int]:
    """(training rows, validation rows) of a holdout split of ``n`` rows."""
    valid = min(n, math.ceil(n * fraction))
    return n - valid, valid


def check_sizes(split: BaseModel, n: int, loc: Loc = ("body", "split")) -> None:
    """Refuse a split that cannot give both sides a row, knowing only the row count ``n``."""
    if n <= 0:
        raise _empty("The dataset version has no rows.", ("body", "dataset"))
    if isinstance(split, HoldoutSplit):
        train, valid = holdout_sizes(n, split.valid_fraction)
        if train == 0 or valid == 0:
            raise _empty(
                f"A holdout of {split.valid_fraction:g} of {n} rows leaves {train} to train on and "
                f"{valid} to validate on: change valid_fraction or use more rows.",
                (*loc, "valid_fraction"),
            )
    elif isinstance(split, KFoldSplit) and split.k > n:
        raise _empty(f"{split.k} folds need at least {split.k} rows; the data has {n}.", (*loc, "k"))
    elif isinstance(split, TimeSplit) and split.valid_fraction is not None and n < 2:
        raise _empty(f"A time split needs at least 2 rows; the data has {n}.", (*loc, "valid_fraction"))


def make_folds(
    split: BaseModel,
    n: int,
    *,
    y: np.ndarray | None = None,
    time: np.ndarray | None = None,
    time_temporal: bool = False,
    loc: Loc = ("body", "split"),
) -> list[Fold]:
    """The folds of ``n`` rows (``y``: class codes, to stratify; ``time``: the time split's column
    as numbers, NaN when missing: microseconds since the epoch when ``time_temporal``). Exactly one
    fold except for k-fold."""
    import numpy as np

    check_sizes(split, n, loc)
    every = np.arange(n)
    if isinstance(split, NoSplit):
        return [Fold(every, every)]
    if isinstance(split, HoldoutSplit):
        return [_holdout(split, n, y)]
    if isinstance(split, KFoldSplit):
        return _kfold(split, n, y)
    if isinstance(split, TimeSplit):
        if time is None:
            raise ValueError("a time split needs the time column's values")
        return [_time(split, time, time_temporal, loc)]
    raise ValueError(f"unknown split {split!r}")


def _stratifiable(y: np.ndarray | None, valid: int, train: int, per_class: int = 2) -> bool:
    import numpy as np

    if y is None:
        return False
    counts = np.bincount(y)
    counts = counts[counts > 0]
    return bool(
        len(counts) >= 2 and counts.min() >= per_class and valid >= len(counts) and train >= len(counts)
    )


def _holdout(split: HoldoutSplit, n: int, y: np.ndarray | None) -> Fold:
    import numpy as np

    train_n, valid_n = holdout_sizes(n, split.valid_fraction)
    if split.stratify and _stratifiable(y, valid_n, train_n):
        from sklearn.model_selection import StratifiedShuffleSplit

        sss = StratifiedShuffleSplit(n_splits=1, test_size=valid_n, random_state=split.seed)
        train, valid = next(sss.split(np.zeros(n), y))
    else:
        order = np.random.default_rng(split.seed).permutation(n)
        valid, train = order[:valid_n], order[valid_n:]
    return Fold(np.sort(train), np.sort(valid))


def _kfold(split: KFoldSplit, n: int, y: np.ndarray | None) -> list[Fold]:
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold

    seed = split.seed if split.shuffle else None
    if split.stratify and y is not None and _stratifiable(y, split.k, split.k, per_class=split.k):
        folds = StratifiedKFold(n_splits=split.k, shuffle=split.shuffle, random_state=seed).split(
            np.zeros(n), y
        )
    else:
        folds = KFold(n_splits=split.k, shuffle=split.shuffle, random_state=seed).split(np.zeros(n))
    return [Fold(train, valid) for train, valid in folds]


def time_value(cutoff: str | float, temporal: bool, loc: Loc) -> float:
    """A cut-off as the number the time column is compared in (microseconds since the epoch, UTC,
    for a date or time column)."""
    if not temporal:
        try:
            return float(cutoff)
        except ValueError:
            raise InvalidInput(
                f"The cut-off {cutoff!r} is not a number, and the time column is numeric.",
                errors=[{"loc": list(loc), "msg": "not a number"}],
            ) from None
    try:
        moment = datetime.fromisoformat(str(cutoff))
    except ValueError:
        raise InvalidInput(
            f"The cut-off {cutoff!r} is not an ISO date or time (like 2024-06-01 or 2024-06-01T12:00).",
            errors=[{"loc": list(loc), "msg": "not an ISO date or time"}],
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return float((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _time(split: TimeSplit, time: np.ndarray, temporal: bool, loc: Loc) -> Fold:
    import numpy as np

    known = np.flatnonzero(~np.isnan(time))
    if split.valid_fraction is not None:
        if len(known) < 2:
            raise _empty(
                f"The time column {split.column!r} has {len(known)} rows with a value; a time split "
                "needs at least 2.",
                (*loc, "column"),
            )
        ordered = known[np.argsort(time[known], kind="stable")]
        train_n, _ = holdout_sizes(len(known), split.valid_fraction)
        where, field_loc = float(time[ordered[train_n]]), (*loc, "valid_fraction")
    else:
        assert split.cutoff is not None
        where, field_loc = time_value(split.cutoff, temporal, (*loc, "cutoff")), (*loc, "cutoff")
    values = time[known]
    train = known[values < where]
    valid = known[values >= where]
    if len(train) == 0 or len(valid) == 0:
        side = "train on" if len(train) == 0 else "validate on"
        raise _empty(
            f"The time split on {split.column!r} leaves no rows to {side}: move the cut-off inside the "
            "column's range.",
            field_loc,
        )
    return Fold(train, valid)
