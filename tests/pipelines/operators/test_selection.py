from __future__ import annotations

import ibis
import pytest

from dais.pipelines.operators._fitting import FitFailed
from dais.pipelines.operators.selection import (
    CorrelationFilter,
    SelectKBest,
    SelectKBestParams,
    VarianceThreshold,
)
from tests.pipelines.operators.conftest import Harness, check_fitted, param_error, schema_of


@pytest.fixture
def features(harness: Harness) -> ibis.Table:
    return harness.table(
        {
            "label": ["a", "a", "b", "b", "c", "c"],
            "good": [0.0, 0.1, 5.0, 5.1, 9.0, 9.2],
            "twin": [0.0, 0.2, 10.0, 10.2, 18.0, 18.4],
            "noise": [3.0, 1.0, 2.0, 3.0, 1.0, 2.0],
            "const": [1.0, 1.0, 1.0, 1.0, 1.0, None],
        }
    )


def test_variance_threshold_drops_constant_columns(harness: Harness, features: ibis.Table) -> None:
    out, fitted = check_fitted(harness, VarianceThreshold(), {"columns": ["good", "const"]}, features)
    assert fitted.state["dropped"] == ["const"]
    assert fitted.output_columns == ["good"]
    assert out.column_names == ["label", "good", "twin", "noise"]


def test_correlation_filter_drops_the_later_twin(harness: Harness, features: ibis.Table) -> None:
    out, fitted = check_fitted(harness, CorrelationFilter(), {"columns": ["good", "twin", "noise"]}, features)
    assert fitted.state["dropped"] == ["twin"]
    assert "twin" not in out.column_names


@pytest.mark.parametrize("score", ["chi2", "mutual_info"])
def test_select_k_best_keeps_the_informative_feature(
    harness: Harness, features: ibis.Table, score: str
) -> None:
    params = {"columns": ["good", "noise"], "label": "label", "k": 1, "score": score}
    _, fitted = check_fitted(harness, SelectKBest(), params, features)
    assert fitted.state["dropped"] == ["noise"]


def test_chi2_refuses_negative_features(harness: Harness) -> None:
    t = harness.table({"label": ["a", "b"], "f": [-1.0, 1.0]})
    params = SelectKBestParams.model_validate({"columns": ["f"], "label": "label", "score": "chi2", "k": 1})
    with pytest.raises(FitFailed):
        SelectKBest().fit(harness.ctx, params, t)


def test_selection_schema_is_open_with_the_columns_always_kept(features: ibis.Table) -> None:
    params = VarianceThreshold.Params.model_validate({"columns": ["good", "const"]})
    out = VarianceThreshold().infer(params, {"in": schema_of(features)})["out"]
    assert out is not None
    assert out.open
    assert out.names() == ["label", "twin", "noise"]


def test_select_k_best_label_must_not_be_a_candidate(features: ibis.Table) -> None:
    params = {"columns": ["good"], "label": "good"}
    assert param_error(SelectKBest(), params, {"in": schema_of(features)}) == "label"
    assert (
        param_error(SelectKBest(), {"columns": ["good"], "label": "nope"}, {"in": schema_of(features)})
        == "label"
    )
