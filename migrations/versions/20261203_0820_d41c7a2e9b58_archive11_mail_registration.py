"""archive: an e-mail's attachments share their message's protocol (main_id, attachment_no); a document deleted
at the end of retention no longer names a stored file (file_path nullable) nor blocks the same content from
being filed again (the content is unique per ente among the documents not deleted)

Revision ID: d41c7a2e9b58
Revises: b3e1f0c2d4a6
Create Date: 2026-12-03 08:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd41c7a2e9b58'
down_revision = 'b3e1f0c2d4a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('main_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attachment_no', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.alter_column('file_path', existing_type=sa.String(length=200), nullable=True)
        batch_op.create_foreign_key(op.f('fk_documents_main_id_documents'), 'documents', ['main_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_documents_main_id'), ['main_id'], unique=False)
        batch_op.drop_constraint('uq_documents_protocol', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_documents_protocol_attachment_no'), ['protocol', 'attachment_no']
        )
        batch_op.create_check_constraint(
            op.f('ck_documents_attachment'),
            '(main_id IS NULL AND attachment_no = 0) OR (main_id IS NOT NULL AND attachment_no > 0)',
        )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('attachment_no', existing_type=sa.SmallInteger(), server_default=None)
        batch_op.drop_constraint('uq_documents_ente_id_sha256', type_='unique')
        batch_op.create_index(
            'uq_documents_ente_sha256_live', ['ente_id', 'sha256'], unique=True,
            postgresql_where=sa.text("status <> 'deleted'"), sqlite_where=sa.text("status <> 'deleted'"),
        )


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('uq_documents_ente_sha256_live')
        batch_op.create_unique_constraint(op.f('uq_documents_ente_id_sha256'), ['ente_id', 'sha256'])
        batch_op.drop_constraint(op.f('ck_documents_attachment'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_documents_protocol_attachment_no'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_documents_main_id'))
        batch_op.drop_constraint(op.f('fk_documents_main_id_documents'), type_='foreign_key')
        batch_op.drop_column('attachment_no')
        batch_op.drop_column('main_id')
    # attachments filed under their message's number would collide: the downgrade needs none of them
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_documents_protocol'), ['protocol'])
        batch_op.alter_column('file_path', existing_type=sa.String(length=200), nullable=False)
