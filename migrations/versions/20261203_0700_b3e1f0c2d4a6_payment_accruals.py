"""payments: the interest and oneri a payment booked when it reached the ledger balance (payment_accruals)

Reconciliation (pagoPA and file flows, the review queue) and the desk book the interest and oneri accrued at
the payment's date before allocating a payment that reaches the ledger balance; this table links each such
movement to its payment, so a reversal of the payment reverses them too.

Revision ID: b3e1f0c2d4a6
Revises: b3e8d2c41a07
Create Date: 2026-12-03 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b3e1f0c2d4a6'
down_revision = 'b3e8d2c41a07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_accruals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ente_id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('booked_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ente_id'], ['enti.id'], name=op.f('fk_payment_accruals_ente_id_enti')),
    sa.ForeignKeyConstraint(['movement_id'], ['movements.id'], name=op.f('fk_payment_accruals_movement_id_movements')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_accruals_payment_id_payments')),
    sa.ForeignKeyConstraint(['reverses_id'], ['payment_accruals.id'], name=op.f('fk_payment_accruals_reverses_id_payment_accruals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_accruals')),
    sa.UniqueConstraint('movement_id', name=op.f('uq_payment_accruals_movement_id')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_payment_accruals_reverses_id'))
    )
    with op.batch_alter_table('payment_accruals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_accruals_payment_id'), ['payment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_accruals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_accruals_payment_id'))
    op.drop_table('payment_accruals')
