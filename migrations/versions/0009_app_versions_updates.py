"""apps.version and apps.images (what was deployed), and an update's state: the version it
goes to, the snapshot taken before it and when that snapshot is removed, and what the last
update did

Revision ID: 0009_app_versions_updates
Revises: 0008_locks_task_claims
Create Date: 2026-12-04 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_app_versions_updates'
down_revision = '0008_locks_task_claims'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('images', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('update_to', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('update_snapshot', sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column('snapshot_expires', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('update_note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        for column in ('update_note', 'snapshot_expires', 'update_snapshot', 'update_to',
                       'images', 'version'):
            batch_op.drop_column(column)
