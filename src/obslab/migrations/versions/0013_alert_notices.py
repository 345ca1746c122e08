"""Alerts as notices: a key in place of the IVORN, the notice's source, format, kind and event, the payload's
hash for exact repeats, and a table for sky maps and their tiles.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("uq_alerts_ivorn", type_="unique")
        batch.alter_column("ivorn", new_column_name="key", type_=sa.String(length=1024), existing_nullable=False)
        batch.add_column(sa.Column("source", sa.String(length=255), nullable=False, server_default=""))
        batch.add_column(sa.Column("format", sa.String(length=16), nullable=False, server_default="voevent"))
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="initial"))
        batch.add_column(sa.Column("alert_type", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("event_id", sa.String(length=255), nullable=False, server_default=""))
        batch.add_column(sa.Column("payload_sha256", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("area90_deg2", sa.Double(), nullable=True))
        batch.add_column(sa.Column("observable_probability", sa.Double(), nullable=True))
        batch.create_index(op.f("ix_alerts_event_id"), ["event_id"], unique=False)
        batch.create_index(op.f("ix_alerts_payload_sha256"), ["payload_sha256"], unique=False)
    # The server defaults only filled the rows already there; the models give every new row its values.
    with op.batch_alter_table("alerts") as batch:
        batch.create_unique_constraint(op.f("uq_alerts_key"), ["key"])
        for column in ("source", "format", "kind", "alert_type", "event_id", "payload_sha256"):
            batch.alter_column(column, server_default=None)
    op.create_table(
        "alert_skymaps",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("fits", sa.LargeBinary(), nullable=False),
        sa.Column("fov_deg", sa.Double(), nullable=True),
        sa.Column("tiles", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_skymaps_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_skymaps")),
    )


def downgrade() -> None:
    op.drop_table("alert_skymaps")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index(op.f("ix_alerts_payload_sha256"))
        batch.drop_index(op.f("ix_alerts_event_id"))
        for column in (
            "observable_probability",
            "area90_deg2",
            "payload_sha256",
            "event_id",
            "alert_type",
            "kind",
            "format",
            "source",
        ):
            batch.drop_column(column)
        batch.drop_constraint("uq_alerts_key", type_="unique")
        batch.alter_column("key", new_column_name="ivorn", type_=sa.String(length=512), existing_nullable=False)
    with op.batch_alter_table("alerts") as batch:
        batch.create_unique_constraint("uq_alerts_ivorn", ["ivorn"])
