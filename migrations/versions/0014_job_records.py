"""Job records: long work (national exports, the fairness analysis) run by a worker, with progress.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 03:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('result_path', sa.String(length=500), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_job_record_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_job_record_requested_by_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_record')),
    sa.UniqueConstraint('key', name=op.f('uq_job_record_key'))
    )
    with op.batch_alter_table('job_record', schema=None) as batch_op:
        batch_op.create_index('ix_job_record_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_record_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_record_campaign_id'))
        batch_op.drop_index('ix_job_record_due')
    op.drop_table('job_record')
