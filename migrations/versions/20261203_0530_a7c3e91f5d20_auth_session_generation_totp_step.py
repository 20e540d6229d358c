"""auth: per-user session generation (server-side logout) and the last accepted TOTP time step (no replay)

Revision ID: a7c3e91f5d20
Revises: 7c3d9a51f2b8
Create Date: 2026-12-03 05:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a7c3e91f5d20'
down_revision = '7c3d9a51f2b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
        batch_op.drop_column('totp_last_step')
