"""Demo content for ``dais up --demo``: real, small, and added only once however often it runs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.cli.demo_data import iris_csv
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
