"""Demo content for ``dais up --demo``: real, small, and added only once however often it runs.

Besides the ``demo`` workspace, its members and the iris CSV, the demo writes two data sets made from
scikit-learn's bundled data (nothing is downloaded) into ``DAIS_HOME/demo-data`` and registers them
in the demo workspace through the normal path: a ``file`` connection ``demo-files`` whose root is
that folder, and a ``data.register`` job per dataset, which the worker pool of ``dais up`` runs.
For that, ``dais up --demo`` adds the folder to the allowed roots of ``file`` connections
(:func:`with_demo_root`); an administrator's own ``DAIS_DATA_ALLOWED_ROOTS`` are kept.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.cli.demo_data import IMAGES_FOLDER, TABULAR_FOLDER, iris_csv, write_demo_files
from dais.core.errors import NotFound
from dais.core.settings import Settings
from dais.db import Database
from dais.storage import WorkspaceArtifacts, open_store
from dais.tenancy.access import AuditContext, Principal, WorkspaceAccess, find_workspace
from dais.tenancy.models import Membership, User
from dais.tenancy.roles import Role
from dais.tenancy.schemas import MemberCreate, UserCreate, WorkspaceCreate
from dais.tenancy.service import add_member, create_user, create_workspace

DEMO_WORKSPACE = "demo"
DEMO_DESCRIPTION = (
    "A first look at Dais: the classic iris flower measurements (datasets/iris.csv: 150 flowers, "
    "4 measurements, 3 species) and two colleagues, alice (editor) and bob (viewer)."
)
DEMO_USERS = {
    "alice": ("Alice", Role.editor),
    "bob": ("Bob", Role.viewer),
}
IRIS_KEY = "datasets/iris.csv"
DEMO_DATA_FOLDER = "demo-data"
DEMO_CONNECTION = "demo-files"
DEMO_DATASETS = {
    "breast-cancer": (
        TABULAR_FOLDER,
        "parquet",
        "Breast-cancer diagnoses (scikit-learn's bundled copy of the Wisconsin data set): 569 patients, "
        "30 measurements and the diagnosis, in daily dt=YYYY-MM-DD parquet partitions.",
    ),
    "digits": (
        IMAGES_FOLDER,
        "images",
        "Handwritten digits (scikit-learn's bundled 8x8 digits, scaled up to 32x32 PNG): 1797 images "
        "in one folder per digit, the folder name being the label.",
    ),
}


def seed_demo_records(session: Session, admin: User) -> list[str]:
    """The demo workspace (admin as owner) and its members; returns what was added this time."""
    ctx = AuditContext.system()
    added: list[str] = []
    ws = find_workspace(session, DEMO_WORKSPACE)
    if ws is None:
        ws = create_workspace(
            session,
            ctx,
            WorkspaceCreate(slug=DEMO_WORKSPACE, name="Demo", description=DEMO_DESCRIPTION),
            owner=admin,
        )
        added.append(f"workspace {DEMO_WORKSPACE}")
    access = WorkspaceAccess(ws, Role.owner, Principal(admin, "password"))
    for username, (display, role) in DEMO_USERS.items():
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            # No password: these users sign in through a login link an admin makes for them.
            create_user(session, ctx, UserCreate(username=username, display_name=display))
            added.append(f"user {username}")
        member = session.scalar(
            select(Membership.id)
            .join(User, Membership.user_id == User.id)
            .where(Membership.workspace_id == ws.id, User.username == username)
        )
        if member is None:
            add_member(session, ctx, access, MemberCreate(username=username, role=role))
    return added


def seed_demo_artifacts(settings: Settings, db: Database) -> list[str]:
    """The iris CSV in the demo workspace, written if it is not there yet."""
    with db.session(write=False) as session:
        ws = find_workspace(session, DEMO_WORKSPACE)
        if ws is None:
            return []
        workspace_id = ws.id
    arts = WorkspaceArtifacts(open_store(settings), workspace_id)
    full_key = arts.full_key(IRIS_KEY)
    if arts.store.exists(full_key):
        return []
    arts.store.put_bytes(full_key, iris_csv())
    return [IRIS_KEY]


def demo_data_root(settings: Settings) -> Path:
    """Where the demo's data files live: ``DAIS_HOME/demo-data``."""
    return settings.home / DEMO_DATA_FOLDER


def with_demo_root(settings: Settings) -> Settings:
    """``settings`` with the demo's data folder among the allowed roots of ``file`` connections.

    Only ``dais up --demo`` does this, for its own process, API and worker pool (jobs inherit the
    settings); the folder holds nothing but the demo's generated files.
    """
    root = demo_data_root(settings).resolve()
    roots = list(settings.data.allowed_roots)
    if any(Path(r).expanduser().resolve() == root for r in roots):
        return settings
    data = settings.data.model_copy(update={"allowed_roots": [*roots, root]})
    return dataclasses.replace(settings, data=data)


def write_demo_data(settings: Settings) -> list[str]:
    """The demo's data files in ``DAIS_HOME/demo-data`` (written once); returns what was written."""
    return [f"{DEMO_DATA_FOLDER}/{name}" for name in write_demo_files(demo_data_root(settings))]


def seed_demo_datasets(session: Session, settings: Settings, admin: User) -> list[str]:
    """The ``demo-files`` connection and a registration job per demo dataset, as the admin.

    A dataset that exists, or whose registration job is still queued or running, is left alone; one
    whose registration failed before is submitted again.
    """
    from dais.data import datasets_service
    from dais.data.schemas import ConnectionCreate, DatasetCreate
    from dais.data.service import create_connection, get_connection
    from dais.data.source import SourceSpec
    from dais.jobs.models import Job
    from dais.jobs.states import ACTIVE

    ws = find_workspace(session, DEMO_WORKSPACE)
    if ws is None:
        return []
    added: list[str] = []
    ctx = AuditContext.system()
    access = WorkspaceAccess(ws, Role.owner, Principal(admin, "password"))
    try:
        conn = get_connection(session, access, DEMO_CONNECTION)
    except NotFound:
        spec = ConnectionCreate(
            name=DEMO_CONNECTION,
            kind="file",
            description="The demo's data files, generated from scikit-learn's bundled data sets.",
            config={"root": str(demo_data_root(settings).resolve())},
        )
        conn = create_connection(session, ctx, access, spec, settings=settings)
        added.append(f"connection {DEMO_CONNECTION}")
    for name, (path, fmt, description) in DEMO_DATASETS.items():
        job_name = f"register {name}"
        pending = session.scalar(
            select(Job.id).where(
                Job.workspace_id == ws.id,
                Job.kind == "data.register",
                Job.name == job_name,
                Job.state.in_([str(s) for s in ACTIVE]),
            )
        )
        if pending is not None:
            continue
        try:
            datasets_service.get_dataset(session, access, name)
            continue
        except NotFound:
            pass
        create = DatasetCreate(
            name=name,
            description=description,
            tags=["demo"],
            connection=DEMO_CONNECTION,
            source=SourceSpec(path=path, format=fmt),
        )
        datasets_service.submit_registration(session, ctx, access, create, frozenset({"files"}), conn.id)
        added.append(f"dataset {name} (registering)")
    return added


DEMO_EXPERIMENT = "iris-sgd-sweep"
#: (learning rate, L2 penalty) of each demo run
DEMO_SWEEP = [(0.001, 1e-4), (0.01, 1e-4), (0.05, 1e-3), (0.1, 1e-2), (0.3, 1e-4), (1.0, 1e-3)]
DEMO_EPOCHS = 40


def seed_demo_experiment(session: Session, admin: User) -> list[str]:
    """An experiment of real runs: a small learning-rate sweep of SGD logistic regression on iris.

    Each run is fitted here, an epoch at a time (well under a second for the sweep), and logs its
    params, train/validation log-loss per epoch and final accuracy through the tracking service, so
    the runs table, run charts and compare view have something true to show from the first start.
    """
    from dais.tracking import service as tracking
    from dais.tracking.errors import ResourceDoesNotExist

    ws = find_workspace(session, DEMO_WORKSPACE)
    if ws is None:
        return []
    access = WorkspaceAccess(ws, Role.owner, Principal(admin, "password"))
    try:
        tracking.get_experiment_by_name(session, access, DEMO_EXPERIMENT)
        return []
    except ResourceDoesNotExist:
        pass
    exp = tracking.create_experiment(
        session,
        access,
        DEMO_EXPERIMENT,
        tags={"mlflow.note.content": "Learning-rate sweep of SGD logistic regression on iris (demo)."},
        ctx=AuditContext.system(),
    )
    for lr, alpha in DEMO_SWEEP:
        _demo_run(session, access, exp.id, lr, alpha)
    return [f"experiment {DEMO_EXPERIMENT} ({len(DEMO_SWEEP)} runs)"]


def _demo_run(session: Session, access: WorkspaceAccess, experiment_id: int, lr: float, alpha: float) -> None:
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from dais.tracking import service as tracking
    from dais.tracking.entries import MetricIn, ParamIn, now_ms

    x, y = load_iris(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_valid = scaler.transform(x_train), scaler.transform(x_valid)
    model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=lr, alpha=alpha, random_state=0)
    classes = np.unique(y)
    started = now_ms()
    run = tracking.create_run(
        session, access, experiment_id, name=f"sgd-lr-{lr:g}", start_time=started, tags={"demo": "true"}
    )
    params = {"learning_rate": lr, "alpha": alpha, "epochs": DEMO_EPOCHS, "model": "SGDClassifier"}
    metrics: list[MetricIn] = []
    for epoch in range(DEMO_EPOCHS):
        model.partial_fit(x_train, y_train, classes=classes)
        at = started + epoch * 50
        for split, (xs, ys) in {"train": (x_train, y_train), "valid": (x_valid, y_valid)}.items():
            loss = float(log_loss(ys, model.predict_proba(xs), labels=classes))
            metrics.append(MetricIn(key=f"{split}_logloss", value=loss, timestamp=at, step=epoch))
    done = started + DEMO_EPOCHS * 50
    metrics.append(
        MetricIn(key="accuracy", value=float(accuracy_score(y_valid, model.predict(x_valid))), timestamp=done)
    )
    tracking.log_batch(
        session,
        access,
        run.id,
        metrics=metrics,
        params=[ParamIn(key=k, value=str(v)) for k, v in params.items()],
    )
    tracking.update_run(session, access, run.id, status="FINISHED", end_time=done)
