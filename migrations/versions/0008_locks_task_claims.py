"""locks (shared named locks) and tasks.claim (what a restore as new counts while it runs)

Revision ID: 0008_locks_task_claims
Revises: 0007_console_sessions
Create Date: 2026-12-04 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_locks_task_claims'
down_revision = '0007_console_sessions'
branch_labels = None
depends_on = None


def upgrade():
    locks = op.create_table(
        'locks',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )
    op.bulk_insert(locks, [{'name': 'starts'}, {'name': 'consoles'}])
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('claim')
    op.drop_table('locks')
