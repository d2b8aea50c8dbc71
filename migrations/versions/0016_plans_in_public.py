"""Whether the registry and the method page mark an edition's licence holders that submitted an
improvement plan (issue 16): the organiser's choice per edition, off for every edition there is.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.add_column(sa.Column('plans_in_public', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.drop_column('plans_in_public')
