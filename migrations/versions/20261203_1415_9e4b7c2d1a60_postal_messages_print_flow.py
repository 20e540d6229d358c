"""postal messages through the print flow: a message's letter in the archive and its print batch, and the
batch's count of messages

Revision ID: 9e4b7c2d1a60
Revises: e5c1a9f37b20
Create Date: 2026-12-03 14:15:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9e4b7c2d1a60'
down_revision = "e5c1a9f37b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('print_batch_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_messages_document_id_documents'), 'documents', ['document_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_messages_print_batch_id_act_print_batches'), 'act_print_batches',
            ['print_batch_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_messages_print_batch_id'), ['print_batch_id'], unique=False)
    with op.batch_alter_table('act_print_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('messages', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('act_print_batches', schema=None) as batch_op:
        batch_op.drop_column('messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_print_batch_id'))
        batch_op.drop_constraint(
            batch_op.f('fk_messages_print_batch_id_act_print_batches'), type_='foreignkey'
        )
        batch_op.drop_constraint(batch_op.f('fk_messages_document_id_documents'), type_='foreignkey')
        batch_op.drop_column('print_batch_id')
        batch_op.drop_column('document_id')
