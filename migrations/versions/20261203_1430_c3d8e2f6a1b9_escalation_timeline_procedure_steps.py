"""escalation: the skips' time (their line on the timeline replaces an event per position), a step that
starts a procedure (pignoramento presso terzi) with its options, the procedure an approved proposal started;
no foreign key constraint from the proposals to enti / rules / steps / campaigns / acts nor from the skips
to steps (their checks were a third of the daily job's time), the review's index on the waiting and excluded
proposals only, one for the sync, one unique index (position, step) instead of two

Revision ID: c3d8e2f6a1b9
Revises: c797a1b2d3e4
Create Date: 2026-12-03 14:30:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "c3d8e2f6a1b9"
down_revision = "c797a1b2d3e4"
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
        batch_op.drop_constraint("fk_escalation_skips_step_id_escalation_steps", type_="foreignkey")
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
        for name in (
            "fk_escalation_proposals_ente_id_enti",
            "fk_escalation_proposals_rule_id_escalation_rules",
            "fk_escalation_proposals_step_id_escalation_steps",
            "fk_escalation_proposals_campaign_id_act_campaigns",
            "fk_escalation_proposals_act_id_acts",
        ):
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.drop_index("ix_escalation_proposals_review")
        batch_op.drop_index("ix_escalation_proposals_position")
        batch_op.drop_index("ux_escalation_proposals_step_position")
        batch_op.create_index(
            "ux_escalation_proposals_position_step", ["position_id", "step_id"], unique=True
        )
        batch_op.create_index(
            "ix_escalation_proposals_review",
            ["ente_id", "step_id", "status"],
            unique=False,
            postgresql_where=sa.text("status IN ('proposta', 'esclusa')"),
            sqlite_where=sa.text("status IN ('proposta', 'esclusa')"),
        )
        batch_op.create_index(
            "ix_escalation_proposals_in_flight",
            ["status"],
            unique=False,
            postgresql_where=sa.text("status IN ('approvata', 'emessa')"),
            sqlite_where=sa.text("status IN ('approvata', 'emessa')"),
        )


def downgrade():
    with op.batch_alter_table("escalation_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_proposals_in_flight")
        batch_op.drop_index("ix_escalation_proposals_review")
        batch_op.drop_index("ux_escalation_proposals_position_step")
        batch_op.create_index(
            "ux_escalation_proposals_step_position", ["step_id", "position_id"], unique=True
        )
        batch_op.create_index("ix_escalation_proposals_position", ["position_id", "status"], unique=False)
        batch_op.create_index(
            "ix_escalation_proposals_review", ["ente_id", "status", "step_id"], unique=False
        )
        batch_op.create_foreign_key("fk_escalation_proposals_act_id_acts", "acts", ["act_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_escalation_proposals_campaign_id_act_campaigns", "act_campaigns", ["campaign_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_escalation_proposals_step_id_escalation_steps",
            "escalation_steps",
            ["step_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_escalation_proposals_rule_id_escalation_rules",
            "escalation_rules",
            ["rule_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key("fk_escalation_proposals_ente_id_enti", "enti", ["ente_id"], ["id"])
        batch_op.drop_column("procedure_id")
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("procedure_kind")
    with op.batch_alter_table("escalation_skips", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_escalation_skips_step_id_escalation_steps",
            "escalation_steps",
            ["step_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_column("created_dt")
