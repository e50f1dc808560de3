from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest

from dais.pipelines.datasets import ArrowDatasetSource, ParquetFolderResolver
from dais.pipelines.engines import get_engine
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.runner import records, run_pipeline
from dais.pipelines.transforms import TransformChain, chain_for
from tests.pipelines.engine.conftest import chain


def _prep() -> PipelineGraph:
    return chain(
        ("src", "source", {"dataset": "people"}),
        ("imp", "impute", {"columns": ["age"], "strategy": "mean"}),
        ("sc", "scale", {"columns": ["age", "income"]}),
        ("oh", "one_hot", {"columns": ["city"]}),
    )


def test_chain_of_a_run_applies_the_same_in_batch_and_online(
    resolver: ParquetFolderResolver, tmp_path: Path
) -> None:
    graph = _prep()
    result = run_pipeline(graph, resolver=resolver)
    transforms = chain_for(graph, result, "oh")
    assert [t.operator for t in transforms.transforms] == ["impute", "scale", "one_hot"]
    restored = TransformChain.loads(transforms.dumps())
    assert restored == transforms
    assert restored.input_columns == ["age", "income", "city"]

    reader = ArrowDatasetSource(ds.dataset(str(resolver.root / "people" / "v1"), format="parquet"))
    with get_engine("duckdb").session(tmp_path) as session:
        table = session.source(reader, name="people")
        batch = session.execute(restored.apply_expr(table))
        rows = session.execute(table)
    columns = {name: rows.column(name).to_numpy(zero_copy_only=False) for name in rows.column_names}
    online = restored.apply_arrays(columns)
    for name in batch.column_names:
        np.testing.assert_allclose(
            np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=float),
            np.asarray(online[name], dtype=float),
            rtol=1e-9,
            err_msg=name,
        )
    # the batch result equals what the pipeline's own run produced
    assert records(batch.slice(0, 100)) == result.nodes["oh"].samples["out"]


def test_unknown_operator_version_is_refused() -> None:
    from dais.core.errors import InvalidInput
    from dais.pipelines.operators.base import FittedTransform

    fitted = FittedTransform(
        operator="scale", version=99, params={}, state={}, input_columns=["a"], output_columns=["a"]
    )
    with pytest.raises(InvalidInput, match="version 99"):
        TransformChain(transforms=[fitted]).apply_arrays({"a": np.zeros(2)})
