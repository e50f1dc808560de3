"""tuning: studies and their trials

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 14:02:11.518204

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tuning_studies",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("workspace_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("parent_run_id", sa.String(length=32), nullable=True),
        sa.Column("metric", sa.String(length=250), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("sampler", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("pruner", sa.JSON(), nullable=False),
        sa.Column("space", sa.JSON(), nullable=False),
        sa.Column("base_spec", sa.JSON(), nullable=False),
        sa.Column("trial_job", sa.JSON(), nullable=False),
        sa.Column("enqueued", sa.JSON(), nullable=False),
        sa.Column("max_trials", sa.Integer(), nullable=True),
        sa.Column("max_wall_time_s", sa.Float(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("promote_to", sa.String(length=256), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("best_trial_number", sa.Integer(), nullable=True),
        sa.Column("best_value", sa.Float(), nullable=True),
        sa.Column("promoted", sa.JSON(), nullable=True),
        sa.Column("coordinator_job_id", sa.String(length=26), nullable=True),
        sa.Column("created_by", sa.String(length=26), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_tuning_studies_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_tuning_studies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tuning_studies")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_tuning_studies_workspace_id_name")),
    )
    with op.batch_alter_table("tuning_studies", schema=None) as batch_op:
        batch_op.create_index("ix_tuning_studies_job", ["coordinator_job_id"], unique=False)
        batch_op.create_index(
            "ix_tuning_studies_workspace_created", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "tuning_trials",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("study_id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("distributions", sa.JSON(), nullable=False),
        sa.Column("system_attrs", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("intermediate", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("job_id", sa.String(length=26), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["tuning_studies.id"],
            name=op.f("fk_tuning_trials_study_id_tuning_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tuning_trials")),
        sa.UniqueConstraint("study_id", "number", name=op.f("uq_tuning_trials_study_id_number")),
    )
    with op.batch_alter_table("tuning_trials", schema=None) as batch_op:
        batch_op.create_index("ix_tuning_trials_job", ["job_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tuning_trials", schema=None) as batch_op:
        batch_op.drop_index("ix_tuning_trials_job")

    op.drop_table("tuning_trials")
    with op.batch_alter_table("tuning_studies", schema=None) as batch_op:
        batch_op.drop_index("ix_tuning_studies_workspace_created")
        batch_op.drop_index("ix_tuning_studies_job")

    op.drop_table("tuning_studies")
