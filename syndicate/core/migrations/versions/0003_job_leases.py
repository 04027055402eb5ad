"""job leases: a claimed job run holds a lease; an edition records when it was queued

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    # An edition stored before this revision counts as queued when it has rows; a
    # composed edition without a single row is completed by its digest job.
    op.execute(
        "UPDATE editions SET queued_at = created_at "
        "WHERE EXISTS (SELECT 1 FROM deliveries WHERE deliveries.edition_id = editions.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("queued_at")
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("holder")
