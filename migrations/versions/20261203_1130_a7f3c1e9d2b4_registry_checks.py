"""registries: the checks of a taxpayer on ANPR C001 and INAD (outcome, date, source) shown on the card

Revision ID: a7f3c1e9d2b4
Revises: ecda2290088e
Create Date: 2026-12-03 11:30:00

"""

from alembic import op
import sqlalchemy as sa
import app.core.db  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a7f3c1e9d2b4"
down_revision = "ecda2290088e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "registry_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taxpayer_id", sa.Integer(), nullable=False),
        sa.Column("registry", sa.String(length=10), nullable=False),
        sa.Column("checked_dt", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("registry IN ('anpr','inad')", name=op.f("ck_registry_checks_registry")),
        sa.CheckConstraint(
            "outcome IN ('confermato','aggiornato','deceduto','non_trovato')",
            name=op.f("ck_registry_checks_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_registry_checks_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["taxpayer_id"], ["taxpayers.id"], name=op.f("fk_registry_checks_taxpayer_id_taxpayers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_checks")),
    )
    with op.batch_alter_table("registry_checks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registry_checks_taxpayer_registry", ["taxpayer_id", "registry", "checked_dt"], unique=False
        )


def downgrade():
    with op.batch_alter_table("registry_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_checks_taxpayer_registry")
    op.drop_table("registry_checks")
