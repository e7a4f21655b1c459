"""commit_paths.path in byte order (COLLATE "C") on PostgreSQL

Directory filters on the history are ranges (`path > 'dir/' AND path < 'dir0'`), exact only in
byte order; with the column in "C" the (device_id, path, seq) index serves them whatever the
database's default collation. SQLite compares bytes already: nothing to do there.

Revision ID: 0010_harden
Revises: 0014_billing
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_harden'
down_revision = '0014_billing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("commit_paths", "path", type_=sa.String(300, collation="C"),
                        existing_type=sa.String(300), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("commit_paths", "path", type_=sa.String(300), existing_type=sa.String(300, collation="C"),
                        existing_nullable=False)
