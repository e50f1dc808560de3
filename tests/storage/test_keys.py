"""Artifact keys: only safe relative keys pass; traversal in any spelling is refused."""

from __future__ import annotations

import pytest

from dais.core.errors import UnsafePath
from dais.storage.keys import safe_key, safe_prefix, workspace_prefix

UNSAFE = [
    "",
    "..",
    ".",
    "../etc/passwd",
    "a/../../b",
    "a/./b",
    "a/..",
    "/etc/passwd",
    "//server/share",
    "C:/Windows/win.ini",
    "c:relative",
    "a\\..\\b",
    "..\\secret",
    "%2e%2e/secret",
    "%2E%2E/secret",
    "..%2fsecret",
    "..%2Fsecret",
    "a%2fb",
    "a%5cb",
    "%252e%252e/secret",
    "%25252e%25252e/secret",
    "a%00b",
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\tb",
    "a\x7fb",
    "a//b",
    "a/",
    "/",
    "x" * 1025,
]


@pytest.mark.parametrize("key", UNSAFE)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(UnsafePath) as err:
        safe_key(key)
    assert err.value.status == 422
    assert err.value.errors[0]["loc"] == ["path", "key"]
    assert "refused" in err.value.detail


SAFE = [
    "model.pkl",
    "runs/1/metrics.json",
    "with space/file name.txt",
    "ünïcode/データ.bin",
    "..hidden-but-not-dotdot",
    "a..b/c...d",
    ".config",
    "100%.txt",
    "a%20b",
]


@pytest.mark.parametrize("key", SAFE)
def test_safe_keys_pass_unchanged(key: str) -> None:
    assert safe_key(key) == key


def test_keys_are_unicode_normalised() -> None:
    decomposed = "cafe\u0301.txt"
    assert safe_key(decomposed) == "caf\u00e9.txt"


def test_prefixes_may_be_empty_or_end_with_a_slash() -> None:
    assert safe_prefix("") == ""
    assert safe_prefix("a/b/") == "a/b/"
    assert safe_prefix("a/b") == "a/b"
    for bad in ("../", "/a/", "a//", "%2e%2e/"):
        with pytest.raises(UnsafePath):
            safe_prefix(bad)


def test_workspace_prefix() -> None:
    assert workspace_prefix("01abc") == "workspaces/01abc/"
