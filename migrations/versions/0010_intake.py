"""intake: per-project noise rules, presets and redaction settings

Revision ID: 0010_intake
Revises: 0015_search
Create Date: 2026-11-30 02:20:00

Projects that exist before this revision keep today's behaviour (no redaction, no noise rules):
a row is written for each with both off. Projects made later have no row until their rules are
saved, and then use the defaults: redaction on, every preset's volatile lines ignored.
"""
from alembic import op
import sqlalchemy as sa
import app.models.base


revision = '0010_intake'
down_revision = '0015_search'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_intake_settings',
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('config_name', sa.String(length=255), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('noise_presets', sa.String(length=10), nullable=False),
    sa.Column('redaction', sa.Boolean(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.String(length=32), nullable=True),
    sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_intake_settings_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_project_intake_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_intake_settings'))
    )
    op.execute(
        "INSERT INTO project_intake_settings "
        "(project_id, config_name, platform, noise_presets, redaction, rules, updated_at) "
        "SELECT id, 'running-config', 'auto', 'off', false, '[]', CURRENT_TIMESTAMP FROM projects"
    )


def downgrade() -> None:
    op.drop_table('project_intake_settings')
