"""An institution's contact details: address, phone, e-mail, website, social profile, opening hours

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = (("address", 300), ("phone", 60), ("email", 254), ("website", 300), ("social", 300),
           ("opening_hours", 500))


def upgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
