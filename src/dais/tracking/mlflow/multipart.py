"""Multipart uploads of the MLflow artifact proxy: signed part URLs and staged parts.

``mpu/create`` gives the client one URL per part pointing back at this server; the client PUTs
each part there with no credentials of its own, so a part URL carries an HMAC signature over the
upload id, part number, workspace and expiry, keyed by a key derived from the instance secret.
Parts are staged in the workspace under ``mlflow/.uploads/<upload_id>/``, beside a manifest that
names the final key; ``mpu/complete`` concatenates them (streamed) into that key, ``mpu/abort``
drops them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dais.core.errors import NotFound
from dais.storage import WorkspaceArtifacts
from dais.tracking.mlflow.common import MlflowError

STAGING = "mlflow/.uploads"
#: How long part URLs stay valid after ``mpu/create``.
PART_URL_TTL_S = 6 * 3600
MAX_PARTS = 10_000
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def _signing_key(secret_key: bytes) -> bytes:
    info = b"dais/mlflow-multipart/v1"
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key)


def sign_part(secret_key: bytes, upload_id: str, part: int, workspace_id: str, expires: int) -> str:
    """The signature of one part URL."""
    message = f"{upload_id}\n{part}\n{workspace_id}\n{expires}".encode()
    return hmac.new(_signing_key(secret_key), message, hashlib.sha256).hexdigest()


def verify_part(
    secret_key: bytes, upload_id: str, part: int, workspace_id: str, expires: int, sig: str
) -> None:
    """PERMISSION_DENIED unless ``sig`` signs this part URL and it has not expired."""
    expected = sign_part(secret_key, upload_id, part, workspace_id, expires)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise MlflowError("The part URL's signature is not valid.", "PERMISSION_DENIED", 403)
    if expires < time.time():
        raise MlflowError("The part URL has expired; start the upload again.", "PERMISSION_DENIED", 403)


def new_upload_id() -> str:
    return secrets.token_hex(16)


def check_upload_id(upload_id: str) -> str:
    if not _UPLOAD_ID.match(upload_id):
        raise MlflowError(f"Invalid upload id {upload_id!r}.")
    return upload_id


def upload_prefix(upload_id: str) -> str:
    return f"{STAGING}/{check_upload_id(upload_id)}"


def part_key(upload_id: str, part: int) -> str:
    return f"{upload_prefix(upload_id)}/parts/{part:05d}"


@dataclass(frozen=True)
class Manifest:
    """An upload in progress: the final key and the number of parts announced."""

    key: str
    num_parts: int
    expires: int


def write_manifest(arts: WorkspaceArtifacts, upload_id: str, manifest: Manifest) -> None:
    data = {"key": manifest.key, "num_parts": manifest.num_parts, "expires": manifest.expires}
    arts.store.put_bytes(arts.full_key(f"{upload_prefix(upload_id)}/manifest.json"), orjson.dumps(data))


def read_manifest(arts: WorkspaceArtifacts, upload_id: str) -> Manifest:
    """The upload's manifest; RESOURCE_DOES_NOT_EXIST for an unknown (or finished) upload."""
    try:
        raw = arts.store.get_bytes(arts.full_key(f"{upload_prefix(upload_id)}/manifest.json"))
    except NotFound as exc:
        raise MlflowError(
            f"No multipart upload {upload_id!r} in progress.", "RESOURCE_DOES_NOT_EXIST"
        ) from exc
    data = orjson.loads(raw)
    return Manifest(key=str(data["key"]), num_parts=int(data["num_parts"]), expires=int(data["expires"]))


def discard(arts: WorkspaceArtifacts, upload_id: str) -> None:
    """Delete the upload's staged parts and manifest."""
    arts.store.delete_prefix(arts.full_key(upload_prefix(upload_id)) + "/")


def assemble(arts: WorkspaceArtifacts, upload_id: str, manifest: Manifest, parts: list[int]) -> None:
    """Concatenate the staged ``parts`` (in order) into the manifest's key, streamed, then discard."""
    for n in parts:
        if not arts.store.exists(arts.full_key(part_key(upload_id, n))):
            raise MlflowError(f"Part {n} of upload {upload_id!r} was never uploaded.")
    writer = arts.open_writer(manifest.key)
    try:
        for n in parts:
            for chunk in arts.read(part_key(upload_id, n)):
                writer.write(chunk)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    discard(arts, upload_id)


__all__ = [
    "MAX_PARTS",
    "PART_URL_TTL_S",
    "STAGING",
    "Manifest",
    "assemble",
    "check_upload_id",
    "discard",
    "new_upload_id",
    "part_key",
    "read_manifest",
    "sign_part",
    "verify_part",
    "write_manifest",
]
