"""The artifact API contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ArtifactRead(BaseModel):
    key: str
    size: int
    etag: str | None
    modified: datetime | None
    is_folder: bool = False


class ArtifactList(BaseModel):
    prefix: str
    items: list[ArtifactRead]
