"""plans: the act of the proroga (comunicazione di accoglimento della proroga della rateazione, L. 160/2019
art. 1 c. 797), issued with the new installments' notices; None when it could not be issued (the proroga
stands). The act type itself and its default templates come from the catalog (app/atti/catalog.py,
`ensure_defaults`), as every act type's.

Revision ID: d797a4c1e2f8
Revises: c3d8e2f6a1b9
Create Date: 2026-12-03 17:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d797a4c1e2f8"
down_revision = "c3d8e2f6a1b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proroga_act_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_plans_proroga_act_id_acts"), "acts", ["proroga_act_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_plans_proroga_act_id_acts"), type_="foreignkey")
        batch_op.drop_column("proroga_act_id")
