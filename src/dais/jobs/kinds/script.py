"""The ``script`` kind: run a user's Python file or command in a working directory.

The working directory is a copy of uploaded files (an artifact prefix of the workspace) or a folder
on one of the roots an administrator allowed (``DAIS_JOBS_ALLOWED_ROOTS``). The process gets
``DAIS_URL`` and ``DAIS_TOKEN`` (a short-lived token limited to the job's workspace), so the code
can use the SDK: ``dais.Client()`` finds them by itself. The worker's interpreter's folder comes
first on its ``PATH`` (unless the spec's ``env`` sets ``PATH``): ``python``, ``pip`` and ``dais`` in a
command are the platform's environment, where the SDK and the MLflow client are installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from dais.core.settings import load_settings
from dais.jobs.kinds.base import JobContext, JobKind
from dais.jobs.runner import die_with_parent
from dais.storage import WorkspaceArtifacts, open_store, safe_key


class ScriptSpec(BaseModel):
    """Exactly one of ``python`` (a file in the working directory) and ``command`` (an argv list)."""

    python: str | None = Field(default=None, max_length=1024, description="A .py file in the working dir.")
    command: list[str] | None = Field(
        default=None, min_length=1, max_length=1000, description="A command and its arguments."
    )
    args: list[str] = Field(default_factory=list, max_length=1000, description="Arguments for the file.")
    files: str | None = Field(
        default=None,
        max_length=1024,
        description="An artifact folder of the workspace copied in as the working dir.",
    )
    path: str | None = Field(
        default=None, max_length=4096, description="A folder on an allowed root used as the working dir."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")

    @model_validator(mode="after")
    def _one_entry(self) -> ScriptSpec:
        if (self.python is None) == (self.command is None):
            raise ValueError("give exactly one of `python` (a file) and `command` (an argv list)")
        if self.files and self.path:
            raise ValueError(
                "give at most one of `files` (uploaded files) and `path` (a folder on an allowed root)"
            )
        if self.files:
            safe_key(self.files.rstrip("/"))
        if self.python:
            safe_key(self.python)
        return self


def platform_path(path: str) -> str:
    """``path`` with the worker's interpreter's folder first, so ``python``, ``pip`` and ``dais`` in a
    command are the platform's own environment (with the MLflow client and the SDK), not whichever
    Python comes first on the worker's ``PATH``."""
    own = os.path.dirname(sys.executable)
    if not own:
        return path
    rest = [p for p in path.split(os.pathsep) if p and p != own]
    return os.pathsep.join([own, *rest])


class ScriptKind(JobKind):
    """Runs a Python file or a command, with the SDK's URL and a job token in its environment."""

    name = "script"
    Spec = ScriptSpec

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        workdir = self._workdir(ctx, spec)
        argv = [sys.executable, spec.python, *spec.args] if spec.python else list(spec.command)
        env = {**os.environ, **ctx.env, **spec.env, "PYTHONUNBUFFERED": "1"}
        if "PATH" not in spec.env:
            env["PATH"] = platform_path(env.get("PATH", ""))
        print(f"$ {' '.join(argv)}  (in {workdir})", flush=True)
        code = subprocess.call(argv, cwd=workdir, env=env, preexec_fn=die_with_parent)  # noqa: S603
        if code != 0:
            raise RuntimeError(f"the command exited with code {code}")
        return {"exit_code": code}

    def _workdir(self, ctx: JobContext, spec: ScriptSpec) -> Path:
        if spec.path:
            settings = load_settings()
            target = Path(os.path.realpath(spec.path))
            roots = [Path(os.path.realpath(r)) for r in settings.jobs.allowed_roots]
            if not any(target == r or target.is_relative_to(r) for r in roots):
                allowed = ", ".join(map(str, roots)) or "none are set (DAIS_JOBS_ALLOWED_ROOTS)"
                raise PermissionError(f"{spec.path} is not inside an allowed root: {allowed}")
            return target
        workdir = ctx.scratch / "work"
        workdir.mkdir(parents=True, exist_ok=True)
        if spec.files:
            arts = WorkspaceArtifacts(open_store(load_settings()), ctx.workspace_id)
            prefix = spec.files.rstrip("/") + "/"
            listing = arts.list(prefix).items
            if not listing:
                raise FileNotFoundError(f"no files under {spec.files!r} in the workspace's artifacts")
            for item in listing:
                if item.is_folder:
                    continue
                dest = workdir / item.key[len(prefix) :]
                dest.parent.mkdir(parents=True, exist_ok=True)
                with dest.open("wb") as f:
                    for chunk in arts.read(item.key):
                        f.write(chunk)
        return workdir
