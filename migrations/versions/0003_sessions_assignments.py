"""session versions; guest assignments name their guest

Revision ID: 0003_hardening
Revises: 0002_guests
Create Date: 2026-11-29 07:30:00

Assignments made before this revision name no guest type or name, so they match no guest
(ownership fails closed): assign those guests again after upgrading.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_hardening'
down_revision = '0002_guests'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('guest_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guest_type', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('guest_name', sa.String(length=128), nullable=True))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_client_address', ['client_address'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_client_address')
    with op.batch_alter_table('guest_assignments', schema=None) as batch_op:
        batch_op.drop_column('guest_name')
        batch_op.drop_column('guest_type')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
