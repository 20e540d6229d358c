"""payments: the idempotency key of the desk form (one payment per form, however many times it is posted)

A nullable column (metadata only on PostgreSQL: no rewrite of the payments table) and a partial unique index
that holds only the desk payments that carry a key.

Data: payments (and their refunds) that the codice fiscale heuristics had attached to a taxpayer not linked to
the paying ente lose that link (issue 10: matching happens only within the paying ente; the other ente's
taxpayer showed on the refunds). Not reversible: downgrade leaves them detached.

Revision ID: 5c0d3e7a91b2
Revises: a7c3e91f5d20
Create Date: 2026-12-03 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5c0d3e7a91b2'
down_revision = 'a7c3e91f5d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'uq_payments_idempotency_key',
            ['idempotency_key'],
            unique=True,
            postgresql_where=sa.text('idempotency_key IS NOT NULL'),
            sqlite_where=sa.text('idempotency_key IS NOT NULL'),
        )
    for table in ('payments', 'payment_refunds'):
        op.execute(
            f"UPDATE {table} SET taxpayer_id = NULL WHERE taxpayer_id IS NOT NULL AND NOT EXISTS ("
            f"SELECT 1 FROM taxpayer_enti te WHERE te.taxpayer_id = {table}.taxpayer_id "
            f"AND te.ente_id = {table}.ente_id)"
        )


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_payments_idempotency_key',
            postgresql_where=sa.text('idempotency_key IS NOT NULL'),
            sqlite_where=sa.text('idempotency_key IS NOT NULL'),
        )
        batch_op.drop_column('idempotency_key')
