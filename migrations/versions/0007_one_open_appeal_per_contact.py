"""At most one open appeal per contact, held by the database (issue 12, finding 8).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

Before the index, parallel requests could file several open appeals on one contact. The index
cannot be built over them, and none may be deleted (nothing lost): every open appeal but the
oldest of its contact is closed as a duplicate of it, with the reason written in the appeal and
in the decisions log, as an organiser's decision would be.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DUPLICATE = "Duplicate of appeal %d (filed twice at the same moment); closed by migration 0007."


def upgrade():
    bind = op.get_bind()
    appeal = sa.table('appeal', sa.column('id', sa.Integer), sa.column('contact_id', sa.Integer),
                      sa.column('campaign_id', sa.Integer), sa.column('status', sa.String),
                      sa.column('resolution', sa.Text), sa.column('resolved_at', sa.DateTime))
    event = sa.table('audit_event', sa.column('at', sa.DateTime), sa.column('actor_id', sa.Integer),
                     sa.column('action', sa.String), sa.column('campaign_id', sa.Integer),
                     sa.column('object_type', sa.String), sa.column('object_id', sa.Integer),
                     sa.column('reason', sa.Text), sa.column('details', sa.JSON))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    first = {}
    for row in bind.execute(sa.select(appeal.c.id, appeal.c.contact_id, appeal.c.campaign_id)
                            .where(appeal.c.status == 'open').order_by(appeal.c.id)):
        if row.contact_id not in first:
            first[row.contact_id] = row.id
            continue
        reason = DUPLICATE % first[row.contact_id]
        bind.execute(appeal.update().where(appeal.c.id == row.id).values(
            status='rejected', resolution=reason, resolved_at=now))
        bind.execute(event.insert().values(
            at=now, actor_id=None, action='appeal_rejected', campaign_id=row.campaign_id, object_type='contact',
            object_id=row.contact_id, reason=reason, details={'appeal': row.id, 'duplicate_of': first[row.contact_id]}))
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index('uq_appeal_open_contact', ['contact_id'], unique=True,
                              sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade():
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index('uq_appeal_open_contact')
