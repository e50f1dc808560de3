"""``s3``: a bucket (and a prefix in it) on AWS S3 or any S3-compatible server (MinIO, Ceph, ...).

Reads go through pyarrow's ``S3FileSystem``; the connection test and browsing use botocore directly,
so a listing can stop at ``limit`` keys and errors carry S3's own code and message. Every call has a
connect and a read timeout and at most :data:`MAX_ATTEMPTS` attempts.
"""

from __future__ import annotations

import math
import posixpath
import re
import threading
from typing import Any, ClassVar
from urllib.parse import urlparse

import pyarrow.fs as pafs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from dais.core.errors import UnsafePath
from dais.core.settings import DataSettings
from dais.data.connectors.base import (
    CheckResult,
    FilesConnector,
    SourceAccessDenied,
    SourceEntry,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
)
from dais.data.connectors.calls import run_with_timeout, scrub, timed_check
from dais.data.connectors.paths import relative_parts

MAX_ATTEMPTS = 2
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{1,254}$")
_NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "NotFound", "404"}
_DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "AccountProblem",
    "403",
}
# pyarrow reports S3 errors as "AWS Error NO_SUCH_BUCKET during ListObjectsV2 operation: <message>"
_ARROW_ERROR = re.compile(
    r"AWS Error (?P<code>[A-Z_]+) during (?P<op>\w+) operation: (?P<msg>.*?)(?: \(Request ID|$)"
)
_ARROW_CODES = {
    "NO_SUCH_BUCKET": "NoSuchBucket",
    "NO_SUCH_KEY": "NoSuchKey",
    "RESOURCE_NOT_FOUND": "NotFound",
    "ACCESS_DENIED": "AccessDenied",
    "INVALID_ACCESS_KEY_ID": "InvalidAccessKeyId",
    "SIGNATURE_DOES_NOT_MATCH": "SignatureDoesNotMatch",
    "EXPIRED_TOKEN": "ExpiredToken",
    "INVALID_CLIENT_TOKEN_ID": "InvalidAccessKeyId",
    "REQUEST_TIMEOUT": "RequestTimeout",
    "NETWORK_CONNECTION": "NetworkConnection",
}


class S3Config(BaseModel):
    """Which bucket and prefix, and where the S3 server is."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(description="Bucket name.")
    prefix: str = Field(default="", description="Folder inside the bucket this connection is limited to.")
    endpoint_url: str | None = Field(
        default=None, description="http(s) URL of an S3-compatible server; empty for AWS."
    )
    region: str | None = Field(default=None, description="Region (default us-east-1).")
    path_style: bool = Field(
        default=True,
        description="Address buckets as endpoint/bucket (MinIO, Ceph) rather than bucket.endpoint.",
    )

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError("a bucket name is 2-255 lowercase letters, digits, '.', '-' or '_'")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix_is_relative(cls, value: str) -> str:
        value = value.strip("/")
        try:
            relative_parts(value)
        except UnsafePath as exc:
            raise ValueError(exc.errors[0]["msg"] if exc.errors else "unsafe prefix") from exc
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if not value:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("give an http:// or https:// URL")
        if parsed.username or parsed.password:
            raise ValueError("put credentials in the secrets, not in the URL")
        return value.rstrip("/")


class S3Secrets(BaseModel):
    """Credentials; with none, requests are anonymous (the server's own credentials are never used)."""

    model_config = ConfigDict(extra="forbid")

    access_key_id: SecretStr | None = Field(default=None, max_length=256)
    secret_access_key: SecretStr | None = Field(default=None, max_length=1024)
    session_token: SecretStr | None = Field(default=None, max_length=8192)


class S3Connector(FilesConnector):
    """Objects in an S3 bucket, under an optional prefix."""

    name = "s3"
    description = "A bucket (and prefix) on AWS S3 or any S3-compatible server (MinIO, Ceph, ...)."
    Config = S3Config
    Secrets = S3Secrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"files", "etag"})

    def __init__(self, config: BaseModel, secrets: BaseModel, *, settings: DataSettings) -> None:
        super().__init__(config, secrets, settings=settings)
        assert isinstance(config, S3Config)
        assert isinstance(secrets, S3Secrets)
        self.cfg = config
        self.sec = secrets
        self.root = posixpath.join(config.bucket, config.prefix) if config.prefix else config.bucket
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    # -- credentials ------------------------------------------------------------------------------------

    def _secret(self, name: str) -> str | None:
        value = getattr(self.sec, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None

    @property
    def _anonymous(self) -> bool:
        return not (self._secret("access_key_id") and self._secret("secret_access_key"))

    def _scrub(self, message: str) -> str:
        return scrub(message, self._secret("secret_access_key"), self._secret("session_token"))

    # -- files interface --------------------------------------------------------------------------------

    def filesystem(self, timeout_s: float) -> pafs.FileSystem:
        kwargs: dict[str, Any] = {
            "region": self.cfg.region or "us-east-1",
            "connect_timeout": timeout_s,
            "request_timeout": timeout_s,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=MAX_ATTEMPTS),
            "force_virtual_addressing": not self.cfg.path_style,
        }
        if self.cfg.endpoint_url:
            parsed = urlparse(self.cfg.endpoint_url)
            kwargs["scheme"] = parsed.scheme
            kwargs["endpoint_override"] = parsed.netloc + parsed.path
        if self._anonymous:
            kwargs["anonymous"] = True
        else:
            kwargs["access_key"] = self._secret("access_key_id")
            kwargs["secret_key"] = self._secret("secret_access_key")
            kwargs["session_token"] = self._secret("session_token")
        return pafs.S3FileSystem(**kwargs)

    def resolve(self, path: str) -> str:
        parts = relative_parts(path)
        return posixpath.join(self.root, *parts) if parts else self.root

    def relative(self, fs_path: str) -> str:
        fs_path = fs_path.rstrip("/")
        if fs_path == self.root:
            return ""
        if not fs_path.startswith(self.root + "/"):
            raise UnsafePath(f"The path {fs_path!r} is not under s3://{self.root}.")
        return fs_path[len(self.root) + 1 :]

    # -- source calls -----------------------------------------------------------------------------------

    def client(self, timeout_s: float) -> Any:
        """A botocore S3 client bounded by ``timeout_s`` per connect and per read (cached; thread-safe)."""
        bound = max(math.ceil(timeout_s), 1)
        with self._lock:
            client = self._clients.get(bound)
            if client is None:
                client = self._clients[bound] = self._new_client(bound)
            return client

    def _new_client(self, bound: int) -> Any:
        import boto3  # type: ignore[import-untyped]
        from botocore import UNSIGNED  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        config = Config(
            connect_timeout=bound,
            read_timeout=bound,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            s3={"addressing_style": "path" if self.cfg.path_style else "virtual"},
            signature_version=UNSIGNED if self._anonymous else None,
        )
        session = boto3.session.Session()
        return session.client(
            "s3",
            endpoint_url=self.cfg.endpoint_url,
            region_name=self.cfg.region or "us-east-1",
            aws_access_key_id=None if self._anonymous else self._secret("access_key_id"),
            aws_secret_access_key=None if self._anonymous else self._secret("secret_access_key"),
            aws_session_token=None if self._anonymous else self._secret("session_token"),
            config=config,
        )

    def _list(self, prefix: str, limit: int, timeout_s: float) -> dict[str, Any]:
        try:
            client = self.client(timeout_s)
            reply: dict[str, Any] = client.list_objects_v2(
                Bucket=self.cfg.bucket, Prefix=prefix, Delimiter="/", MaxKeys=max(1, min(limit, 1000))
            )
            return reply
        except Exception as exc:
            raise self.source_error(exc) from exc

    def check(self, timeout_s: float) -> CheckResult:
        where = f"s3://{self.root}"

        def probe() -> str:
            prefix = f"{self.cfg.prefix}/" if self.cfg.prefix else ""
            reply = self._list(prefix, 1, timeout_s)
            found = reply.get("KeyCount", 0)
            return f"{where} is readable" + ("" if found else " (nothing under it yet)") + "."

        return timed_check(probe, timeout_s, f"Listing {where}")

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        base = self.resolve(path)
        key_prefix = base[len(self.cfg.bucket) + 1 :] if base != self.cfg.bucket else ""

        def listing() -> list[SourceEntry]:
            prefix = f"{key_prefix}/" if key_prefix else ""
            reply = self._list(prefix, limit, timeout_s)
            entries = [
                SourceEntry(
                    name=p["Prefix"][len(prefix) :].rstrip("/"),
                    path=self.relative(f"{self.cfg.bucket}/{p['Prefix']}"),
                    kind="dir",
                )
                for p in reply.get("CommonPrefixes", [])
            ]
            for obj in reply.get("Contents", []):
                if obj["Key"].endswith("/"):
                    continue  # a "folder marker" object
                entries.append(
                    SourceEntry(
                        name=obj["Key"][len(prefix) :],
                        path=self.relative(f"{self.cfg.bucket}/{obj['Key']}"),
                        kind="file",
                        size=int(obj.get("Size", 0)),
                        modified=obj["LastModified"].isoformat() if obj.get("LastModified") else None,
                    )
                )
            if not entries and key_prefix:
                head = self._head(key_prefix, timeout_s)  # a path naming one object
                if head is not None:
                    return [head]
                raise SourceNotFound(f"Nothing at {path!r} in s3://{self.root}.")
            entries.sort(key=lambda e: (e.kind != "dir", e.name))
            return entries[:limit]

        return run_with_timeout(listing, timeout_s, f"Listing {path or '/'} in s3://{self.root}")

    def _head(self, key: str, timeout_s: float) -> SourceEntry | None:
        try:
            reply = self.client(timeout_s).head_object(Bucket=self.cfg.bucket, Key=key)
        except Exception as exc:
            error = self.source_error(exc)
            if isinstance(error, SourceNotFound):
                return None
            raise error from exc
        modified = reply.get("LastModified")
        return SourceEntry(
            name=posixpath.basename(key),
            path=self.relative(f"{self.cfg.bucket}/{key}"),
            kind="file",
            size=int(reply.get("ContentLength", 0)),
            modified=modified.isoformat() if modified else None,
        )

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- errors -----------------------------------------------------------------------------------------

    def source_error(self, exc: BaseException) -> SourceError:
        """A botocore or pyarrow S3 error as the matching :class:`SourceError` ("Code: S3's message")."""
        return s3_error(exc, bucket=self.cfg.bucket, scrub=self._scrub)


def s3_error(exc: BaseException, *, bucket: str, scrub: Any = None) -> SourceError:
    """Map an S3 failure (botocore ``ClientError``/connection errors, pyarrow ``OSError``)."""
    from botocore.exceptions import (  # type: ignore[import-untyped]
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    clean = scrub or (lambda s: s)
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = err.get("Message") or {
            "404": f"The bucket {bucket!r} or the key does not exist",
            "403": "Access denied",
        }.get(code, str(exc))
        return _by_code(code, clean(f"{code}: {message}"))
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return SourceTimeout(clean(f"The S3 server did not answer in time: {exc}"))
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError):
        return SourceUnreachable(clean(f"The S3 server cannot be reached: {exc}"))
    text = str(exc)
    match = _ARROW_ERROR.search(text)
    if match:
        raw = match["code"]
        code = _ARROW_CODES.get(raw, "".join(w.capitalize() for w in raw.split("_")))
        if raw == "NETWORK_CONNECTION" and "Timeout" in text:
            return SourceTimeout(clean(f"The S3 server did not answer in time: {match['msg']}"))
        if raw == "NETWORK_CONNECTION":
            return SourceUnreachable(clean(f"The S3 server cannot be reached: {match['msg']}"))
        return _by_code(code, clean(f"{code}: {match['msg'].strip()}"))
    if isinstance(exc, FileNotFoundError):
        return SourceNotFound(clean(text))
    if isinstance(exc, PermissionError):
        return SourceAccessDenied(clean(text))
    return SourceError(clean(text))


def _by_code(code: str, detail: str) -> SourceError:
    if code in _NOT_FOUND:
        return SourceNotFound(detail)
    if code in _DENIED:
        return SourceAccessDenied(detail)
    if code in ("RequestTimeout", "SlowDown") or "Timeout" in code:
        return SourceTimeout(detail)
    return SourceError(detail)
