"""apps name the app they were cloned from; a source app keeps why its last clone failed

Revision ID: 0006_app_clones
Revises: 0005_quotas
Create Date: 2026-11-29 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_app_clones'
down_revision = '0005_quotas'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('clone_error', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            'fk_apps_source_id', 'apps', ['source_id'], ['id'], ondelete='SET NULL'
        )


def downgrade():
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_apps_source_id', type_='foreignkey')
        batch_op.drop_column('clone_error')
        batch_op.drop_column('source_id')
