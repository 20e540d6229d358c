"""archive: the IMAP intake's mailboxes, messages and their documents; the PEC receipt document type

Revision ID: b3e8d2c41a07
Revises: f6098c17097a
Create Date: 2026-12-03 06:30:00

"""
import sqlalchemy as sa
from alembic import op

import app.core.db

# revision identifiers, used by Alembic.
revision = 'b3e8d2c41a07'
down_revision = 'f6098c17097a'
branch_labels = None
depends_on = None

_RECEIPT_SOURCE = "DPR 11 febbraio 2005, n. 68, art. 6; art. 2220 c.c."


def upgrade():
    op.create_table('mail_mailboxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=300), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('polled_dt', app.core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_mailboxes')),
    sa.UniqueConstraint('account', name=op.f('uq_mail_mailboxes_account'))
    )
    op.create_table('mail_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ente_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('receipt_kind', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('sender', sa.String(length=250), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('attachments', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('created_dt', app.core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('email','pec','ricevuta_pec')", name=op.f('ck_mail_messages_kind')),
    sa.CheckConstraint("status IN ('filed','refused')", name=op.f('ck_mail_messages_status')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_mail_messages_document_id_documents')),
    sa.ForeignKeyConstraint(['ente_id'], ['enti.id'], name=op.f('fk_mail_messages_ente_id_enti')),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mail_mailboxes.id'], name=op.f('fk_mail_messages_mailbox_id_mail_mailboxes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_messages')),
    sa.UniqueConstraint('ente_id', 'message_id', name=op.f('uq_mail_messages_ente_id_message_id'))
    )
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_messages_protocol'), ['protocol'], unique=False)

    op.create_table('mail_message_documents',
    sa.Column('mail_message_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.CheckConstraint("role IN ('messaggio','allegato','postacert','daticert')", name=op.f('ck_mail_message_documents_role')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_mail_message_documents_document_id_documents')),
    sa.ForeignKeyConstraint(['mail_message_id'], ['mail_messages.id'], name=op.f('fk_mail_message_documents_mail_message_id_mail_messages')),
    sa.PrimaryKeyConstraint('mail_message_id', 'position', name=op.f('pk_mail_message_documents'))
    )
    with op.batch_alter_table('mail_message_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_message_documents_document_id'), ['document_id'], unique=False)

    types = sa.table('document_types', sa.column('code', sa.String), sa.column('label', sa.String),
                     sa.column('retention_years', sa.SmallInteger), sa.column('source', sa.Text))
    op.bulk_insert(types, [{'code': 'ricevuta_pec', 'label': 'Ricevuta PEC', 'retention_years': 10,
                            'source': _RECEIPT_SOURCE}])


def downgrade():
    op.execute("DELETE FROM document_types WHERE code = 'ricevuta_pec' AND ente_id IS NULL")
    with op.batch_alter_table('mail_message_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_message_documents_document_id'))
    op.drop_table('mail_message_documents')
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_messages_protocol'))
    op.drop_table('mail_messages')
    op.drop_table('mail_mailboxes')
