"""accounts: verified email, policy versions, shared auth-failure counters, richer security log

Revision ID: 0013_accounts
Revises: 0011_migrate
Create Date: 2026-11-30 02:20:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0013_accounts'
down_revision = '0011_migrate'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_failure_counters',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_auth_failure_counters'))
    )
    with op.batch_alter_table('auth_failure_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_failure_counters_expires_at'), ['expires_at'], unique=False)

    op.create_table('policy_versions',
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('published_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_policy_versions'))
    )

    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent', sa.String(length=200), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_security_events_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('policy_version_accepted', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('policy_version_dismissed', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('policy_version_dismissed')
        batch_op.drop_column('policy_version_accepted')
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('security_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_events_created_at'))
        batch_op.drop_column('user_agent')

    op.drop_table('policy_versions')
    with op.batch_alter_table('auth_failure_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_failure_counters_expires_at'))
    op.drop_table('auth_failure_counters')
