"""analytics: the dashboards' materialised position summary and the saved (scheduled) ad-hoc queries

Revision ID: a7c3e5f1b2d4
Revises: 7cd4e89e7c60
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "a7c3e5f1b2d4"
down_revision = "7cd4e89e7c60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analytics_position_summary",
        sa.Column("ente_id", sa.Integer(), nullable=False),
        sa.Column("entrata_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("age_bucket", sa.SmallInteger(), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("carico_cents", sa.BigInteger(), nullable=False),
        sa.Column("sgravio_cents", sa.BigInteger(), nullable=False),
        sa.Column("collected_cents", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_cents", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("refreshed_dt", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ente_id"], ["enti.id"], name=op.f("fk_analytics_position_summary_ente_id_enti")
        ),
        sa.ForeignKeyConstraint(
            ["entrata_id"], ["entrate.id"], name=op.f("fk_analytics_position_summary_entrata_id_entrate")
        ),
        sa.PrimaryKeyConstraint(
            "ente_id", "entrata_id", "year", "state", "age_bucket", name=op.f("pk_analytics_position_summary")
        ),
    )
    op.create_table(
        "analytics_saved_queries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("shared_role", sa.String(length=20), nullable=True),
        sa.Column("dataset", sa.String(length=30), nullable=False),
        sa.Column(
            "spec",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("frequency", sa.String(length=12), nullable=True),
        sa.Column("delivery", sa.String(length=12), nullable=True),
        sa.Column("export_format", sa.String(length=4), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("archive_ente_id", sa.Integer(), nullable=True),
        sa.Column("next_run", sa.Date(), nullable=True),
        sa.Column("last_run_dt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=300), nullable=True),
        sa.Column("created_dt", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "frequency IS NULL OR frequency IN ('giornaliera','settimanale','mensile')",
            name=op.f("ck_analytics_saved_queries_frequency"),
        ),
        sa.CheckConstraint(
            "delivery IS NULL OR delivery IN ('email','archivio')",
            name=op.f("ck_analytics_saved_queries_delivery"),
        ),
        sa.ForeignKeyConstraint(
            ["archive_ente_id"], ["enti.id"], name=op.f("fk_analytics_saved_queries_archive_ente_id_enti")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_analytics_saved_queries_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_saved_queries")),
    )
    with op.batch_alter_table("analytics_saved_queries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_saved_queries_owner_id"), ["owner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("analytics_saved_queries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_saved_queries_owner_id"))
    op.drop_table("analytics_saved_queries")
    op.drop_table("analytics_position_summary")
