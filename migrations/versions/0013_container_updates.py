"""apps.previous_vmid and apps.data_copy_vmid: an OCI container app's update makes a new
container; the old one is kept, stopped, to roll back to, and a temporary full clone of it
carries a copy of the data volume to the new one

Revision ID: 0013_container_updates
Revises: 0012_backup_checks
Create Date: 2026-12-04 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_container_updates'
down_revision = '0012_backup_checks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_vmid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('data_copy_vmid', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('data_copy_vmid')
        batch_op.drop_column('previous_vmid')
