"""apps.backups_checked_at: until when the worker looked for the app's failed scheduled
backups in Proxmox's task list

Revision ID: 0012_backup_checks
Revises: 0011_notifications
Create Date: 2026-12-04 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_backup_checks'
down_revision = '0011_notifications'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backups_checked_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('backups_checked_at')
