"""dynamics (issue 14 points 1-2): the measures on positions (sgravio, sospensione, discarico,
annullamento), the acts a sgravio superseded, and the interest pause of a suspended position

Revision ID: 5d1f7a9c3b21
Revises: 82e519c357cd
Create Date: 2026-12-03 11:20:00

"""
from alembic import op
import sqlalchemy as sa
import app.core.db  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

revision = '5d1f7a9c3b21'
down_revision = "82e519c357cd"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('position_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ordered_by', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('suspension_reason', sa.String(length=16), nullable=True),
    sa.Column('act_number', sa.String(length=60), nullable=True),
    sa.Column('act_date', sa.Date(), nullable=True),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('components', _JSON, nullable=False),
    sa.Column('previous_state', sa.String(length=24), nullable=False),
    sa.Column('stops_interest', sa.Boolean(), nullable=False),
    sa.Column('attempts', _JSON, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_label', sa.String(length=120), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=500), nullable=True),
    sa.Column('ended_by_label', sa.String(length=120), nullable=True),
    sa.Column('created_dt', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('sgravio','sospensione','discarico','annullamento')", name=op.f('ck_position_measures_kind')),
    sa.CheckConstraint("ordered_by IN ('regione','gestore')", name=op.f('ck_position_measures_ordered_by')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_position_measures_amount')),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], name=op.f('fk_position_measures_position_id_positions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_position_measures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_position_measures'))
    )
    with op.batch_alter_table('position_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_position_measures_position_id'), ['position_id'], unique=False)

    op.create_table('superseded_acts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('act_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['act_id'], ['acts.id'], name=op.f('fk_superseded_acts_act_id_acts')),
    sa.ForeignKeyConstraint(['measure_id'], ['position_measures.id'], name=op.f('fk_superseded_acts_measure_id_position_measures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_superseded_acts')),
    sa.UniqueConstraint('measure_id', 'act_id', name=op.f('uq_superseded_acts_measure_id_act_id'))
    )
    with op.batch_alter_table('superseded_acts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_superseded_acts_act_id'), ['act_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_superseded_acts_measure_id'), ['measure_id'], unique=False)

    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interest_stopped_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('interest_resumes_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('interest_resumes_on')
        batch_op.drop_column('interest_stopped_on')
    op.drop_table('superseded_acts')
    op.drop_table('position_measures')
