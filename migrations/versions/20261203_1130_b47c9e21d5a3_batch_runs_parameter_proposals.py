"""batch monitor: the runs of the periodic jobs; four eyes on the legal numbers: proposed parameter periods

Revision ID: b47c9e21d5a3
Revises: a7c3e5f1b2d4
Create Date: 2026-12-03 11:30:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.db  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b47c9e21d5a3'
down_revision = 'a7c3e5f1b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('periodic_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=160), nullable=False),
    sa.Column('trigger', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('scheduled_for', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_dt', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_dt', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('overran', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('alert_sent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('rq_job_id', sa.String(length=160), nullable=True),
    sa.Column('created_dt', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled','running','ok','failed','cancelled')", name=op.f('ck_periodic_runs_status')),
    sa.CheckConstraint("trigger IN ('cron','manual','at')", name=op.f('ck_periodic_runs_trigger')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_periodic_runs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_runs')),
    sa.UniqueConstraint('rq_job_id', name=op.f('uq_periodic_runs_rq_job_id'))
    )
    with op.batch_alter_table('periodic_runs', schema=None) as batch_op:
        batch_op.create_index('ix_periodic_runs_job_created', ['job_name', 'created_dt'], unique=False)

    op.create_table('parameter_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('rate', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_dt', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('applied_row_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('tasso','parametro')", name=op.f('ck_parameter_proposals_kind')),
    sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f('ck_parameter_proposals_status')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_parameter_proposals_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_parameter_proposals_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parameter_proposals'))
    )
    with op.batch_alter_table('parameter_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_parameter_proposals_status', ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('parameter_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_parameter_proposals_status')
    op.drop_table('parameter_proposals')
    with op.batch_alter_table('periodic_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_periodic_runs_job_created')
    op.drop_table('periodic_runs')
