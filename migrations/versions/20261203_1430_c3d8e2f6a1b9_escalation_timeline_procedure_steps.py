"""escalation: the skips' time (their line on the timeline replaces an event per position), a step that
starts a procedure (pignoramento presso terzi) with its options, and the procedure an approved proposal
started

Revision ID: c3d8e2f6a1b9
Revises: e5c1a9f37b20
Create Date: 2026-12-03 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "c3d8e2f6a1b9"
down_revision = "e5c1a9f37b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("escalation_skips", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_dt",
                sa.DateTime(timezone=True),
                server_default=sa.text("CURRENT_TIMESTAMP"),
                nullable=False,
            )
        )
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "options",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="{}",
                nullable=False,
            )
        )
    with op.batch_alter_table("escalation_proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_escalation_proposals_procedure_id_procedures"),
            "procedures",
            ["procedure_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("escalation_proposals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_escalation_proposals_procedure_id_procedures"), type_="foreignkey"
        )
        batch_op.drop_column("procedure_id")
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("procedure_kind")
    with op.batch_alter_table("escalation_skips", schema=None) as batch_op:
        batch_op.drop_column("created_dt")
