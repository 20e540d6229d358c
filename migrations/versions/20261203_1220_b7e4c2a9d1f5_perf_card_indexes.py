"""perf: the index the card's engine-cache check needs (row_versions by table and id: the max id of the
parameter tables' versions, read on every card, becomes an index lookup instead of a scan of every version)

Revision ID: b7e4c2a9d1f5
Revises: 3cd2f29efae8
Create Date: 2026-12-03 12:20:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4c2a9d1f5'
down_revision = "3cd2f29efae8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('row_versions', schema=None) as batch_op:
        batch_op.create_index('ix_row_versions_table_id', ['table_name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('row_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_row_versions_table_id')
