"""escalation perf: no foreign key constraint from the proposals and the skips to positions (its check locked
every proposed position's row, about half of the daily job's time; positions are never deleted)

Revision ID: e5c1a9f37b20
Revises: b7e4c2a9d1f5
Create Date: 2026-12-03 12:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5c1a9f37b20'
down_revision = "b7e4c2a9d1f5"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('escalation_proposals', schema=None) as batch_op:
        batch_op.drop_constraint('fk_escalation_proposals_position_id_positions', type_='foreignkey')
    with op.batch_alter_table('escalation_skips', schema=None) as batch_op:
        batch_op.drop_constraint('fk_escalation_skips_position_id_positions', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('escalation_skips', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_escalation_skips_position_id_positions', 'positions', ['position_id'], ['id']
        )
    with op.batch_alter_table('escalation_proposals', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_escalation_proposals_position_id_positions', 'positions', ['position_id'], ['id']
        )
