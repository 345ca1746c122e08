"""Exposures: missing_at, set when ingest no longer finds a raw file of the exposure.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exposures") as batch_op:
        batch_op.add_column(sa.Column("missing_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exposures") as batch_op:
        batch_op.drop_column("missing_at")
