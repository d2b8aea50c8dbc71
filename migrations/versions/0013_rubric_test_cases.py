"""Rubric versions can be retired; sample answers saved with a rubric as its test cases.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02 03:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rubric_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(), nullable=True))
    op.create_table('rubric_test_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('saved_with', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('expected', sa.JSON(), nullable=False),
    sa.Column('expected_total', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_rubric_test_case_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['saved_with'], ['rubric_version.hash'], name=op.f('fk_rubric_test_case_saved_with_rubric_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_test_case')),
    sa.UniqueConstraint('rubric_id', 'name', name='uq_rubric_test_case_rubric_id_name')
    )
    with op.batch_alter_table('rubric_test_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_test_case_rubric_id'), ['rubric_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rubric_test_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_test_case_rubric_id'))
    op.drop_table('rubric_test_case')
    with op.batch_alter_table('rubric_version', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
