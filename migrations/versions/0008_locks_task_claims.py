"""locks (shared named locks), tasks.claim (what a restore as new counts while it runs),
apps.guest_left (a failed deploy's guest still to remove)

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
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('guest_left', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('guest_left')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('claim')
    op.drop_table('locks')
