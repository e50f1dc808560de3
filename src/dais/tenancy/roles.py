"""Workspace roles."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A member's role in a workspace. ``annotator`` and ``reviewer`` are for labeling work."""

    owner = "owner"
    admin = "admin"
    editor = "editor"
    viewer = "viewer"
    annotator = "annotator"
    reviewer = "reviewer"
