"""selfservice: taxpayers' rateazione requests (plan_requests, plan_request_positions)

A taxpayer asks for a plan from the portal: the positions, the amount due at the first due date, the schedule
the engine simulated; the back office approves or refuses it (who, when, note).

Revision ID: c5e1a7d3f920
Revises: c4a7d2e9f1b3
Create Date: 2026-12-03 08:16:27.651258

"""
from alembic import op
import sqlalchemy as sa
import app.core.db  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c5e1a7d3f920'
down_revision = 'c4a7d2e9f1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ente_id', sa.Integer(), nullable=False),
    sa.Column('taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('installments', sa.SmallInteger(), nullable=False),
    sa.Column('first_due', sa.Date(), nullable=False),
    sa.Column('schedule', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_label', sa.String(length=120), nullable=True),
    sa.Column('decided_dt', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=1000), nullable=True),
    sa.Column('created_dt', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('richiesta','approvata','respinta')", name=op.f('ck_plan_requests_status')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_plan_requests_amount')),
    sa.CheckConstraint('installments > 0', name=op.f('ck_plan_requests_installments')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_plan_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['ente_id'], ['enti.id'], name=op.f('fk_plan_requests_ente_id_enti')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_plan_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['taxpayer_id'], ['taxpayers.id'], name=op.f('fk_plan_requests_taxpayer_id_taxpayers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_requests'))
    )
    with op.batch_alter_table('plan_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_requests_ente_id'), ['ente_id'], unique=False)
        batch_op.create_index('ix_plan_requests_status', ['status', 'created_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_requests_taxpayer_id'), ['taxpayer_id'], unique=False)

    op.create_table('plan_request_positions',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], name=op.f('fk_plan_request_positions_position_id_positions')),
    sa.ForeignKeyConstraint(['request_id'], ['plan_requests.id'], name=op.f('fk_plan_request_positions_request_id_plan_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'position_id', name=op.f('pk_plan_request_positions'))
    )
    with op.batch_alter_table('plan_request_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_request_positions_position_id'), ['position_id'], unique=False)




def downgrade():
    with op.batch_alter_table('plan_request_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_request_positions_position_id'))

    op.drop_table('plan_request_positions')
    with op.batch_alter_table('plan_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_requests_taxpayer_id'))
        batch_op.drop_index('ix_plan_requests_status')
        batch_op.drop_index(batch_op.f('ix_plan_requests_ente_id'))

    op.drop_table('plan_requests')

