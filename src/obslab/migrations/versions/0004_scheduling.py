"""Scheduling tables: alerts, observing requests and windows, schedule versions, blocks, rejections.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 15:27:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ivorn", sa.String(length=512), nullable=False),
        sa.Column(
            "role",
            sa.Enum("observation", "test", "utility", name="alertrole", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ra_deg", sa.Double(), nullable=True),
        sa.Column("dec_deg", sa.Double(), nullable=True),
        sa.Column("error_radius_deg", sa.Double(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "accepted",
                "rejected",
                "duplicate",
                "superseded",
                "retracted",
                name="alertstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("policy", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"], ["alerts.id"], name=op.f("fk_alerts_duplicate_of_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["alerts.id"], name=op.f("fk_alerts_supersedes_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_alerts_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("ivorn", name=op.f("uq_alerts_ivorn")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_event_time"), ["event_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_stream"), ["stream"], unique=False)

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "superseded", name="schedulestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("planned_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("night_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("night_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "twilight",
            sa.Enum("sunset", "civil", "nautical", "astronomical", name="twilightlevel", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_schedules_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["schedules.id"], name=op.f("fk_schedules_parent_id_schedules"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("night", "version_number", name=op.f("uq_schedules_night_version_number")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedules_night"), ["night"], unique=False)

    op.create_table(
        "observing_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("target_name", sa.String(length=128), nullable=False),
        sa.Column("ra_deg", sa.Double(), nullable=False),
        sa.Column("dec_deg", sa.Double(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("overhead_s", sa.Double(), nullable=False),
        sa.Column("priority", sa.Double(), nullable=False),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("preferred_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("min_altitude_deg", sa.Double(), nullable=True),
        sa.Column("max_airmass", sa.Double(), nullable=True),
        sa.Column(
            "twilight",
            sa.Enum("sunset", "civil", "nautical", "astronomical", name="twilightlevel", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("min_moon_separation_deg", sa.Double(), nullable=True),
        sa.Column("max_moon_illumination", sa.Double(), nullable=True),
        sa.Column("hour_angle_min_h", sa.Double(), nullable=True),
        sa.Column("hour_angle_max_h", sa.Double(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "completed", "cancelled", "expired", name="requeststatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("observation_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("duration_s > 0", name=op.f("ck_observing_requests_positive_duration")),
        sa.CheckConstraint("overhead_s >= 0", name=op.f("ck_observing_requests_nonnegative_overhead")),
        sa.CheckConstraint("priority >= 0", name=op.f("ck_observing_requests_nonnegative_priority")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_observing_requests_alert_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_observing_requests_observation_id_observations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_observing_requests_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_observing_requests_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observing_requests")),
        sa.UniqueConstraint("name", name=op.f("uq_observing_requests_name")),
    )
    with op.batch_alter_table("observing_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observing_requests_status"), ["status"], unique=False)

    op.create_table(
        "request_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "never_visible",
                "windows_outside_night",
                "visible_too_short",
                "moon",
                "hour_angle",
                "outranked",
                "time_lost",
                "not_schedulable",
                name="rejectionreason",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("outranked_by", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["observing_requests.id"],
            name=op.f("fk_request_rejections_request_id_observing_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_request_rejections_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_rejections")),
        sa.UniqueConstraint("schedule_id", "request_id", name=op.f("uq_request_rejections_schedule_id_request_id")),
    )
    with op.batch_alter_table("request_rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_rejections_request_id"), ["request_id"], unique=False)

    op.create_table(
        "request_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('start < "end"', name=op.f("ck_request_windows_ordered")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["observing_requests.id"],
            name=op.f("fk_request_windows_request_id_observing_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_windows")),
    )
    with op.batch_alter_table("request_windows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_windows_request_id"), ["request_id"], unique=False)

    op.create_table(
        "scheduled_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slew_s", sa.Double(), nullable=False),
        sa.CheckConstraint('start < "end"', name=op.f("ck_scheduled_blocks_ordered")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["observing_requests.id"],
            name=op.f("fk_scheduled_blocks_request_id_observing_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_scheduled_blocks_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_blocks")),
    )
    with op.batch_alter_table("scheduled_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_blocks_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduled_blocks_schedule_id"), ["schedule_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_blocks_schedule_id"))
        batch_op.drop_index(batch_op.f("ix_scheduled_blocks_request_id"))

    op.drop_table("scheduled_blocks")
    with op.batch_alter_table("request_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_windows_request_id"))

    op.drop_table("request_windows")
    with op.batch_alter_table("request_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_rejections_request_id"))

    op.drop_table("request_rejections")
    with op.batch_alter_table("observing_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observing_requests_status"))

    op.drop_table("observing_requests")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_night"))

    op.drop_table("schedules")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_stream"))
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_event_time"))

    op.drop_table("alerts")
