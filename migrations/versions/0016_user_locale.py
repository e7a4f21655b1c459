"""users.locale: the language account mails are written in

Mails leave from background jobs (no request, so no cookie or Accept-Language) or are caused by
someone else's request (a sign-in alert): they need the user's own language, saved with the account.

Revision ID: 0016_locale
Revises: 0010_harden
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_locale'
down_revision = '0010_harden'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
