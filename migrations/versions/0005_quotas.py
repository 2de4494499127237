"""quotas per user

Revision ID: 0005_quotas
Revises: 0004_apps
Create Date: 2026-11-29 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_quotas'
down_revision = '0004_apps'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quotas',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('guests', sa.Integer(), nullable=True),
        sa.Column('cores', sa.Integer(), nullable=True),
        sa.Column('memory', sa.Integer(), nullable=True),
        sa.Column('disk', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    op.drop_table('quotas')
