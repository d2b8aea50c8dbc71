"""Results read, not recomputed: a revision's figures and the live result's snapshot (issue 18).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 04:00:00

`revision.figures`: per category, the ranked points and each channel's median score, and per channel
the spread of contacts behind each institution;
`revision_standing.certainty`: the institution's bootstrap interval. Both are written at publication,
so that a director's scorecard and the public method page read one row and one small document
instead of the whole revision. Revisions published before stay NULL and are computed when read.

`result_snapshot`: an edition's live result as last computed, under the stamp of the state it was
computed from (audit/result_cache.py), so that no page recomputes an edition that did not change.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'result_snapshot',
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('stamp', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('kind', 'campaign_id'),
    )
    with op.batch_alter_table('revision') as batch:
        batch.add_column(sa.Column('figures', sa.JSON(), nullable=True))
    with op.batch_alter_table('revision_standing') as batch:
        batch.add_column(sa.Column('certainty', sa.JSON(), nullable=True))


def downgrade():
    op.drop_table('result_snapshot')
    with op.batch_alter_table('revision_standing') as batch:
        batch.drop_column('certainty')
    with op.batch_alter_table('revision') as batch:
        batch.drop_column('figures')
