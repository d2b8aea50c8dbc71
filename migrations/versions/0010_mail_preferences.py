"""Each person's opt-outs of notifications (reminders and the like; never account mail).

Revision ID: 0010
Revises: 0015
Create Date: 2026-12-12 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_opt_out',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mail_opt_out_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic', name=op.f('pk_mail_opt_out'))
    )


def downgrade():
    op.drop_table('mail_opt_out')
