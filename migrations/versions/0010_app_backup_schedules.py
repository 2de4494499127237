"""apps.backup_schedule, backup_keep, backup_storage: an app's scheduled backups (a Proxmox
backup job, /cluster/backup, named after the app)

Revision ID: 0010_app_backup_schedules
Revises: 0009_app_versions_updates
Create Date: 2026-12-04 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_app_backup_schedules'
down_revision = '0009_app_versions_updates'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backup_schedule', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('backup_keep', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('backup_storage', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        for column in ('backup_storage', 'backup_keep', 'backup_schedule'):
            batch_op.drop_column(column)
