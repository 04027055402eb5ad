"""SQLite: ids of subscribers, deliveries and operators are never reused

Without AUTOINCREMENT, SQLite gives a new row the largest id plus one, so erasing the
newest subscriber would hand their id to the next one, and the links in the erased
person's old emails (signed for that id) would act on a stranger. PostgreSQL sequences
never reuse a value; there this migration does nothing.

The tables are rebuilt with foreign keys off (``upgrade`` in db.py turns them off for
the migration's connection): dropping the old table must not cascade to its children.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("subscribers", "deliveries", "operators")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
