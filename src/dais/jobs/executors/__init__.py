"""Executors (group ``dais.executors``): where and how a claimed job's process runs.

The worker claims jobs from the queue and hands each to its executor; nothing else knows which
executor runs. ``local`` runs each job in its own child process on this machine. A Ray or
Kubernetes executor implements the same :class:`Executor` interface (launch a run, poll it, kill
it, expose its log and progress files) and the worker, queue and API stay unchanged.
"""

from dais.jobs.executors.base import Executor, RunHandle, RunOutcome, RunRequest, executors

__all__ = ["Executor", "RunHandle", "RunOutcome", "RunRequest", "executors"]
