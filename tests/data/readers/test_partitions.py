from __future__ import annotations

import pyarrow as pa
import pytest

from dais.core.errors import InvalidInput
from dais.data.partitions import detect_partitions, partition_schema, select_partitions


def test_hive_partitions_are_listed_with_file_counts_and_sizes() -> None:
    info = detect_partitions(
        [
            ("dt=2024-01-01/region=eu/a.parquet", 10),
            ("dt=2024-01-01/region=eu/b.parquet", 5),
            ("dt=2024-01-01/region=us/a.parquet", 7),
            ("dt=2024-01-02/region=eu/a.parquet", 1),
        ]
    )
    assert info.style == "hive"
    assert info.keys == ["dt", "region"]
    assert [(p.path, p.files, p.bytes) for p in info.partitions] == [
        ("dt=2024-01-01/region=eu", 2, 15),
        ("dt=2024-01-01/region=us", 1, 7),
        ("dt=2024-01-02/region=eu", 1, 1),
    ]
    assert info.partitions[0].values == {"dt": "2024-01-01", "region": "eu"}
    assert not info.truncated


def test_hive_partition_types_are_inferred() -> None:
    info = detect_partitions([("year=2024/day=2024-01-01/n=x/f", 1), ("year=2023/day=2023-12-31/n=7/f", 1)])
    schema = partition_schema(info)
    assert schema == pa.schema([("year", pa.int64()), ("day", pa.date32()), ("n", pa.string())])


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["2024-01-01/a.csv", "2024-01-02/b.csv"], ["2024-01-01", "2024-01-02"]),
        (["20240101/a.csv", "20240102/b.csv"], ["20240101", "20240102"]),
        (["2024/01/01/a.csv", "2024/01/02/b.csv", "2024/01/02/c.csv"], ["2024/01/01", "2024/01/02"]),
    ],
)
def test_date_folders_are_partitions(paths: list[str], expected: list[str]) -> None:
    info = detect_partitions([(p, 3) for p in paths])
    assert info.style == "date"
    assert info.keys == ["date"]
    assert [p.path for p in info.partitions] == expected
    assert info.partitions[0].values == {"date": "2024-01-01"}


def test_mixed_or_flat_layouts_have_no_partitions() -> None:
    assert detect_partitions([("a.parquet", 1), ("dt=2024-01-01/b.parquet", 1)]).style == "none"
    assert detect_partitions([("x/a.parquet", 1), ("y/b.parquet", 1)]).style == "none"
    assert detect_partitions([("2024-13-45/a.csv", 1)]).style == "none"  # not a real date
    assert detect_partitions([]).style == "none"


def test_partition_list_is_bounded() -> None:
    info = detect_partitions([(f"k={i:03d}/f", 1) for i in range(30)], limit=10)
    assert len(info.partitions) == 10
    assert info.truncated


def _days() -> list[tuple[str, int]]:
    return [(f"dt=2024-01-0{d}/region={r}/f.parquet", 1) for d in (1, 2, 3) for r in ("eu", "us")]


def test_select_pinned_partitions_and_prefixes() -> None:
    info = detect_partitions(_days())
    assert len(select_partitions(info, None, None)) == 6
    picked = select_partitions(info, ["dt=2024-01-02", "dt=2024-01-03/region=us"], None)
    assert [p.path for p in picked] == [
        "dt=2024-01-02/region=eu",
        "dt=2024-01-02/region=us",
        "dt=2024-01-03/region=us",
    ]
    assert [p.path for p in select_partitions(info, "dt=2024-01-0[12]/region=eu", None)] == [
        "dt=2024-01-01/region=eu",
        "dt=2024-01-02/region=eu",
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("dt=${ds}", "dt=2024-01-02"),
        ("dt=${ds-1d}", "dt=2024-01-01"),
        ("dt=${ds+1d}/region=${region}", "dt=2024-01-03"),
    ],
)
def test_dynamic_expressions_resolve_with_variables(expression: str, expected: str) -> None:
    info = detect_partitions(_days())
    picked = select_partitions(info, expression, {"ds": "2024-01-02", "region": "eu"})
    assert picked
    assert all(p.path.startswith(expected) for p in picked)


def test_dynamic_expression_with_a_date_format_on_date_folders() -> None:
    info = detect_partitions([("20240101/a.csv", 1), ("20240102/a.csv", 1)])
    assert [p.path for p in select_partitions(info, "${ds|%Y%m%d}", {"ds": "2024-01-02"})] == ["20240102"]
    nested = detect_partitions([("2024/01/01/a.csv", 1), ("2024/01/02/a.csv", 1)])
    assert [p.path for p in select_partitions(nested, "${ds-1d|%Y/%m/%d}", {"ds": "2024-01-02"})] == [
        "2024/01/01"
    ]
    assert [p.path for p in select_partitions(nested, ["2024-01-02"], None)] == ["2024/01/02"]


def test_an_expression_matching_nothing_names_its_rendered_value() -> None:
    info = detect_partitions(_days())
    with pytest.raises(InvalidInput, match="dt=2023-12-31"):
        select_partitions(info, "dt=${ds-1d}", {"ds": "2024-01-01"})
    with pytest.raises(InvalidInput, match="dt=2030-01-01"):
        select_partitions(info, ["dt=2030-01-01"], None)


def test_bad_variables_are_invalid_input() -> None:
    info = detect_partitions(_days())
    with pytest.raises(InvalidInput, match="unknown variable"):
        select_partitions(info, "dt=${ds}", None)
    with pytest.raises(InvalidInput, match="not an ISO date"):
        select_partitions(info, "dt=${ds}", {"ds": "yesterday"})
    with pytest.raises(InvalidInput, match="no partition folders"):
        select_partitions(detect_partitions([("a.csv", 1)]), ["x"], None)
