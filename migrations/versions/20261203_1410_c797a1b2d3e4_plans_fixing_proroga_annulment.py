"""plans: the movements the approval fixed, the proroga (L. 160/2019 c. 797) and the annulment of a plan, the
installments a proroga replaced, the notice numbers cancelled

Revision ID: c797a1b2d3e4
Revises: 9e4b7c2d1a60
Create Date: 2026-12-03 14:10:00.000000

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "c797a1b2d3e4"
down_revision = "9e4b7c2d1a60"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proroga_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("proroga_reason", sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column("proroga_by_label", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("annulled_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("annulled_reason", sa.String(length=600), nullable=True))
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('attivo','decaduto','estinto','annullato')")
    with op.batch_alter_table("plan_positions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("movement_ids", JSON, nullable=True))
    with op.batch_alter_table("plan_installments", schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('da_pagare','parziale','pagata','sostituita')")
    with op.batch_alter_table("notice_numbers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("notice_numbers", schema=None) as batch_op:
        batch_op.drop_column("cancelled_date")
    with op.batch_alter_table("plan_installments", schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('da_pagare','parziale','pagata')")
    with op.batch_alter_table("plan_positions", schema=None) as batch_op:
        batch_op.drop_column("movement_ids")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.create_check_constraint("status", "status IN ('attivo','decaduto','estinto')")
        for name in (
            "annulled_reason",
            "annulled_date",
            "proroga_by_label",
            "proroga_reason",
            "proroga_date",
        ):
            batch_op.drop_column(name)
