"""Observing tables: nights, exposures, frame files, data products, pipeline stages, metrics.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 15:27:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_date", sa.Date(), nullable=False),
        sa.Column("site_name", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nights")),
        sa.UniqueConstraint("night_date", name=op.f("uq_nights_night_date")),
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "science",
                "bias",
                "dark",
                "flat",
                "seeing",
                "pointing",
                name="exposurekind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("program", sa.String(length=32), nullable=False),
        sa.Column("target_name", sa.String(length=128), nullable=False),
        sa.Column("ra_deg", sa.Double(), nullable=True),
        sa.Column("dec_deg", sa.Double(), nullable=True),
        sa.Column("filter_name", sa.String(length=16), nullable=False),
        sa.Column("camera_mode", sa.String(length=16), nullable=False),
        sa.Column("exposure_s", sa.Double(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("airmass", sa.Double(), nullable=True),
        sa.Column("magnitude", sa.Double(), nullable=True),
        sa.Column("configuration_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["instrument_configurations.id"],
            name=op.f("fk_exposures_configuration_id_instrument_configurations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_exposures_night_id_nights"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["observing_requests.id"],
            name=op.f("fk_exposures_request_id_observing_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_exposures_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sa.UniqueConstraint("name", name=op.f("uq_exposures_name")),
    )
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposures_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_exposures_night_started", ["night_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposures_program"), ["program"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposures_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposures_target_name"), ["target_name"], unique=False)

    op.create_table(
        "data_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("configuration_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["instrument_configurations.id"],
            name=op.f("fk_data_products_configuration_id_instrument_configurations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["exposure_id"], ["exposures.id"], name=op.f("fk_data_products_exposure_id_exposures"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_data_products_night_id_nights"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_products")),
        sa.UniqueConstraint("path", name=op.f("uq_data_products_path")),
    )
    with op.batch_alter_table("data_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_products_exposure_id"), ["exposure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_products_night_id"), ["night_id"], unique=False)

    op.create_table(
        "frame_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("n_frames", sa.Integer(), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["exposure_id"], ["exposures.id"], name=op.f("fk_frame_files_exposure_id_exposures"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frame_files")),
        sa.UniqueConstraint("path", name=op.f("uq_frame_files_path")),
    )
    with op.batch_alter_table("frame_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frame_files_exposure_id"), ["exposure_id"], unique=False)

    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["exposure_id"], ["exposures.id"], name=op.f("fk_metrics_exposure_id_exposures"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_metrics_night_id_nights"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        sa.UniqueConstraint("exposure_id", "name", name=op.f("uq_metrics_exposure_id_name")),
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.create_index("ix_metrics_name_measured", ["name", "measured_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_metrics_night_id"), ["night_id"], unique=False)

    op.create_table(
        "pipeline_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("exposure_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "queued", "running", "done", "failed", name="stagestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("force_redo", sa.Boolean(), nullable=False),
        sa.Column("inputs_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exposure_id"], ["exposures.id"], name=op.f("fk_pipeline_stages_exposure_id_exposures"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["night_id"], ["nights.id"], name=op.f("fk_pipeline_stages_night_id_nights"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_pipeline_stages_updated_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_stages")),
    )
    with op.batch_alter_table("pipeline_stages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_stages_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_pipeline_stages_exposure_stage",
            ["exposure_id", "stage"],
            unique=True,
            sqlite_where=sa.text("exposure_id IS NOT NULL"),
            postgresql_where=sa.text("exposure_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_pipeline_stages_night_stage",
            ["night_id", "stage"],
            unique=True,
            sqlite_where=sa.text("exposure_id IS NULL"),
            postgresql_where=sa.text("exposure_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("pipeline_stages", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_pipeline_stages_night_stage",
            sqlite_where=sa.text("exposure_id IS NULL"),
            postgresql_where=sa.text("exposure_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_pipeline_stages_exposure_stage",
            sqlite_where=sa.text("exposure_id IS NOT NULL"),
            postgresql_where=sa.text("exposure_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_pipeline_stages_state"))

    op.drop_table("pipeline_stages")
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metrics_night_id"))
        batch_op.drop_index("ix_metrics_name_measured")

    op.drop_table("metrics")
    with op.batch_alter_table("frame_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frame_files_exposure_id"))

    op.drop_table("frame_files")
    with op.batch_alter_table("data_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_products_night_id"))
        batch_op.drop_index(batch_op.f("ix_data_products_exposure_id"))

    op.drop_table("data_products")
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposures_target_name"))
        batch_op.drop_index(batch_op.f("ix_exposures_started_at"))
        batch_op.drop_index(batch_op.f("ix_exposures_program"))
        batch_op.drop_index("ix_exposures_night_started")
        batch_op.drop_index(batch_op.f("ix_exposures_kind"))

    op.drop_table("exposures")
    op.drop_table("nights")
