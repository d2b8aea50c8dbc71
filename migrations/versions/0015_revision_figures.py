"""A revision keeps the figures every scorecard of it compares against (issue 18).

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-02 04:00:00

`revision.figures`: per category, the ranked points and each channel's median score, and per channel
the spread of contacts behind each institution;
`revision_standing.certainty`: the institution's bootstrap interval. Both are written at publication,
so that a director's scorecard and the public method page read one row and one small document
instead of the whole revision. Revisions published before stay NULL and are computed when read.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('revision') as batch:
        batch.add_column(sa.Column('figures', sa.JSON(), nullable=True))
    with op.batch_alter_table('revision_standing') as batch:
        batch.add_column(sa.Column('certainty', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('revision_standing') as batch:
        batch.drop_column('certainty')
    with op.batch_alter_table('revision') as batch:
        batch.drop_column('figures')
