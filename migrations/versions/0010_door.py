"""door: unique (device, seq), refs digest for the reconciler, and the photos each team uploaded

Revision ID: 0010_door
Revises: 0009
Create Date: 2026-11-30 02:40:00
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0010_door'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refs_digest', sa.String(length=64), nullable=True))
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.drop_index('ix_commits_device_seq')
        batch_op.create_index('ix_commits_device_seq', ['device_id', 'seq'], unique=True)
    op.create_table('team_photos',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'sha256')
    )


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('refs_digest')
    op.drop_table('team_photos')
    with op.batch_alter_table('commits', schema=None) as batch_op:
        batch_op.drop_index('ix_commits_device_seq')
        batch_op.create_index('ix_commits_device_seq', ['device_id', 'seq'], unique=False)
