"""card: links between taxpayers (taxpayer_relations): heirs of a deceased debtor, legal representatives

The domicilio digitale needs no table: it is a contact kind (`domicilio_digitale`) of taxpayer_contacts,
kept as valid-time versions with their source like every other contact.

Revision ID: c4a7d2e9f1b3
Revises: c7d2a9e4b1f3
Create Date: 2026-12-03 08:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c4a7d2e9f1b3'
down_revision = 'c7d2a9e4b1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('taxpayer_relations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('from_taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('to_taxpayer_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('erede','rappresentante_legale')", name=op.f('ck_taxpayer_relations_kind')),
    sa.CheckConstraint('from_taxpayer_id <> to_taxpayer_id', name=op.f('ck_taxpayer_relations_distinct_taxpayers')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_taxpayer_relations_valid_period')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_taxpayer_relations_ended_by_id_users')),
    sa.ForeignKeyConstraint(['from_taxpayer_id'], ['taxpayers.id'], name=op.f('fk_taxpayer_relations_from_taxpayer_id_taxpayers')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_taxpayer_relations_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['to_taxpayer_id'], ['taxpayers.id'], name=op.f('fk_taxpayer_relations_to_taxpayer_id_taxpayers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxpayer_relations'))
    )
    with op.batch_alter_table('taxpayer_relations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taxpayer_relations_from_taxpayer_id'), ['from_taxpayer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_taxpayer_relations_to_taxpayer_id'), ['to_taxpayer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('taxpayer_relations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taxpayer_relations_to_taxpayer_id'))
        batch_op.drop_index(batch_op.f('ix_taxpayer_relations_from_taxpayer_id'))
    op.drop_table('taxpayer_relations')
