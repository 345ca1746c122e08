"""Programs and their members; exposures.program_id (filled from the codes recorded) and a unit vector for cones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:45:00
"""

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("principal_investigator", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("code", name=op.f("uq_programs_code")),
    )
    op.create_table(
        "program_members",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_program_members_program_id_programs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_program_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "user_id", name=op.f("pk_program_members")),
    )
    op.create_index(op.f("ix_program_members_user_id"), "program_members", ["user_id"], unique=False)
    with op.batch_alter_table("exposures") as batch_op:
        batch_op.add_column(sa.Column("program_id", sa.Integer(), nullable=True))
        for axis in ("unit_x", "unit_y", "unit_z"):
            batch_op.add_column(sa.Column(axis, sa.Double(), nullable=True))
        batch_op.create_index(batch_op.f("ix_exposures_dec_deg"), ["dec_deg"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposures_program_id"), ["program_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_exposures_program_id_programs"), "programs", ["program_id"], ["id"], ondelete="RESTRICT"
        )
    # Every program code already on an exposure becomes a program (no members yet: staff see it until added).
    op.execute(
        "INSERT INTO programs (code, title, principal_investigator, created_at) "
        "SELECT DISTINCT program, '', '', CURRENT_TIMESTAMP FROM exposures WHERE program <> ''"
    )
    op.execute(
        "UPDATE exposures SET program_id = (SELECT programs.id FROM programs WHERE programs.code = exposures.program) "
        "WHERE program <> ''"
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, ra_deg, dec_deg FROM exposures WHERE ra_deg IS NOT NULL")).all()
    for row_id, ra_deg, dec_deg in rows:  # computed here, not in SQL: SQLite may lack trigonometric functions
        if dec_deg is None:
            continue
        ra, dec = math.radians(ra_deg), math.radians(dec_deg)
        bind.execute(
            sa.text("UPDATE exposures SET unit_x = :x, unit_y = :y, unit_z = :z WHERE id = :id"),
            {"x": math.cos(dec) * math.cos(ra), "y": math.cos(dec) * math.sin(ra), "z": math.sin(dec), "id": row_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("exposures") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exposures_program_id_programs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_exposures_program_id"))
        batch_op.drop_index(batch_op.f("ix_exposures_dec_deg"))
        for axis in ("unit_z", "unit_y", "unit_x"):
            batch_op.drop_column(axis)
        batch_op.drop_column("program_id")
    op.drop_index(op.f("ix_program_members_user_id"), table_name="program_members")
    op.drop_table("program_members")
    op.drop_table("programs")
