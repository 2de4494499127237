"""apps deployed from the catalog, their steps; tasks name their deploy

Revision ID: 0004_apps
Revises: 0003_hardening
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_apps'
down_revision = '0003_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'apps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_key', sa.String(length=64), nullable=False),
        sa.Column('catalog_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=63), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('guest_type', sa.String(length=8), nullable=False),
        sa.Column('node', sa.String(length=64), nullable=False),
        sa.Column('storage', sa.String(length=64), nullable=False),
        sa.Column('vmid', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('cores', sa.Integer(), nullable=False),
        sa.Column('memory', sa.Integer(), nullable=False),
        sa.Column('disk', sa.Integer(), nullable=False),
        sa.Column('inputs', sa.JSON(), nullable=False),
        sa.Column('outputs', sa.JSON(), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.Column('keep_on_failure', sa.Boolean(), nullable=False),
        sa.Column('sealed_secrets', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_reference', sa.String(length=64), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_key'),
    )
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.create_index('ix_apps_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_apps_status', ['status'], unique=False)
        batch_op.create_index(
            'ix_apps_vmid_deploying', ['vmid'], unique=True,
            sqlite_where=sa.text("status = 'deploying'"),
            postgresql_where=sa.text("status = 'deploying'"),
        )
    op.create_table(
        'app_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('app_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['app_id'], ['apps.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('app_steps', schema=None) as batch_op:
        batch_op.create_index('ix_app_steps_app_id', ['app_id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_tasks_app_id', 'apps', ['app_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tasks_app_id', type_='foreignkey')
        batch_op.drop_column('app_id')
    op.drop_table('app_steps')
    op.drop_table('apps')
