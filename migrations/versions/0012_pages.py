"""Fleet-sized device lists and history filters: device tags, sort indexes, history indexes

Revision ID: 0012_pages
Revises: 0010_intake
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_pages'
down_revision = '0010_intake'
branch_labels = None
depends_on = None

SORT_COLUMNS = ("name", "vendor", "model", "status", "location", "last_changed_at", "version_count")


def upgrade() -> None:
    op.create_table(
        'device_tags',
        sa.Column('device_id', sa.String(length=32), nullable=False),
        sa.Column('tag', sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id', 'tag'),
    )
    op.create_index('ix_device_tags_tag_device', 'device_tags', ['tag', 'device_id'], unique=False)
    for column in SORT_COLUMNS:
        op.create_index(f'ix_devices_project_{column}', 'devices', ['project_id', column, 'id'], unique=False)
    op.create_index('ix_commits_device_author_seq', 'commits', ['device_id', 'author_id', 'seq'], unique=False)
    op.create_index('ix_commits_device_created_seq', 'commits', ['device_id', 'created_at', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_commits_device_created_seq', table_name='commits')
    op.drop_index('ix_commits_device_author_seq', table_name='commits')
    for column in SORT_COLUMNS:
        op.drop_index(f'ix_devices_project_{column}', table_name='devices')
    op.drop_index('ix_device_tags_tag_device', table_name='device_tags')
    op.drop_table('device_tags')
