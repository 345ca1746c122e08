"""Initial schema: the tables of the whole mission, and the standard roles.

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 15:27:37.260915
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STANDARD_ROLES = {
    "admin": "administrator: may do everything, manages users, roles and API keys",
    "usint": "support scientist (USINT/POC): submits, verifies and approves change requests, duty roster",
    "arcops": "operations: signs off general and ACIS changes",
    "acis": "ACIS instrument team: signs off ACIS SI-mode changes",
    "hrc": "HRC instrument team: signs off HRC SI-mode changes",
    "mp": "mission planning: receives scheduling-impact warnings",
    "scheduler": "night operator: plans and re-plans the night, accepts alerts",
    "pipeline": "pipeline scientist: ingests nights, runs and reprocesses reductions",
    "staff": "observatory staff: reads everything, changes nothing",
    "telescope": "telescope software: pushes instrument configurations and alerts with an API key",
}


def upgrade() -> None:
    op.create_table('nights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_date', sa.Date(), nullable=False),
    sa.Column('site_name', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nights')),
    sa.UniqueConstraint('night_date', name=op.f('uq_nights_night_date'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('cc', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='deliverystatus', native_enum=False, length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status'], unique=False)

    roles_table = op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('name', name=op.f('uq_roles_name'))
    )
    # The standard roles, frozen as of this migration (later role changes get migrations of their own).
    op.bulk_insert(
        roles_table,
        [{"name": name, "description": description} for name, description in STANDARD_ROLES.items()],
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_users_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ivorn', sa.String(length=512), nullable=False),
    sa.Column('role', sa.Enum('observation', 'test', 'utility', name='alertrole', native_enum=False, length=16), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('stream', sa.String(length=255), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ra_deg', sa.Double(), nullable=True),
    sa.Column('dec_deg', sa.Double(), nullable=True),
    sa.Column('error_radius_deg', sa.Double(), nullable=True),
    sa.Column('status', sa.Enum('received', 'accepted', 'rejected', 'duplicate', 'superseded', 'retracted', name='alertstatus', native_enum=False, length=16), nullable=False),
    sa.Column('policy', sa.String(length=64), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['alerts.id'], name=op.f('fk_alerts_duplicate_of_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['alerts.id'], name=op.f('fk_alerts_supersedes_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_alerts_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('ivorn', name=op.f('uq_alerts_ivorn'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_event_time'), ['event_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_stream'), ['stream'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)

    op.create_table('duty_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_duty_shifts_ordered')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_duty_shifts_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_duty_shifts_updated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_duty_shifts_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_shifts')),
    sa.UniqueConstraint('starts_on', name=op.f('uq_duty_shifts_starts_on'))
    )
    op.create_table('instrument_configurations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('superseded_at IS NULL OR recorded_at <= superseded_at', name=op.f('ck_instrument_configurations_record_interval')),
    sa.CheckConstraint('valid_to IS NULL OR valid_from < valid_to', name=op.f('ck_instrument_configurations_valid_interval')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_instrument_configurations_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_instrument_configurations_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_configurations')),
    sa.UniqueConstraint('instrument', 'version_number', name=op.f('uq_instrument_configurations_instrument_version_number'))
    )
    with op.batch_alter_table('instrument_configurations', schema=None) as batch_op:
        batch_op.create_index('ix_instrument_configurations_validity', ['instrument', 'valid_from'], unique=False)

    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('obsid', sa.Integer(), nullable=False),
    sa.Column('sequence_number', sa.String(length=16), nullable=False),
    sa.Column('proposal_number', sa.String(length=16), nullable=False),
    sa.Column('target_name', sa.String(length=128), nullable=False),
    sa.Column('ra_deg', sa.Double(), nullable=False),
    sa.Column('dec_deg', sa.Double(), nullable=False),
    sa.Column('unit_x', sa.Double(), nullable=False),
    sa.Column('unit_y', sa.Double(), nullable=False),
    sa.Column('unit_z', sa.Double(), nullable=False),
    sa.Column('instrument', sa.String(length=16), nullable=False),
    sa.Column('grating', sa.String(length=8), nullable=False),
    sa.Column('obs_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('unobserved', 'scheduled', 'untriggered', 'observed', 'archived', 'triggered', 'canceled', name='observationstatus', native_enum=False, length=24), nullable=False),
    sa.Column('pi_name', sa.String(length=128), nullable=False),
    sa.Column('si_mode', sa.String(length=32), nullable=True),
    sa.Column('approved_exposure_ks', sa.Double(), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_active_list', sa.Boolean(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_observations_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations')),
    sa.UniqueConstraint('obsid', name=op.f('uq_observations_obsid'))
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observations_approved'), ['approved'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_dec_deg'), ['dec_deg'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_instrument'), ['instrument'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_obs_type'), ['obs_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_pi_name'), ['pi_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_sequence_number'), ['sequence_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_target_name'), ['target_name'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=128), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('parameters_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Enum('running', 'done', 'failed', name='reportstate', native_enum=False, length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notebook_path', sa.String(length=1024), nullable=True),
    sa.Column('html_path', sa.String(length=1024), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reports_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('template', 'night', 'parameters_hash', name=op.f('uq_reports_template_night_parameters_hash'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_night'), ['night'], unique=False)

    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night', sa.Date(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'superseded', name='schedulestatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('planned_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('night_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('night_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('twilight', sa.Enum('sunset', 'civil', 'nautical', 'astronomical', name='twilightlevel', native_enum=False, length=16), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_schedules_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['schedules.id'], name=op.f('fk_schedules_parent_id_schedules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
    sa.UniqueConstraint('night', 'version_number', name=op.f('uq_schedules_night_version_number'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_night'), ['night'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_user_roles_role_id_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role_id', name=op.f('pk_user_roles'))
    )
    op.create_table('configuration_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['configuration_id'], ['instrument_configurations.id'], name=op.f('fk_configuration_items_configuration_id_instrument_configurations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_configuration_items')),
    sa.UniqueConstraint('configuration_id', 'key', name=op.f('uq_configuration_items_configuration_id_key'))
    )
    op.create_table('observation_parameters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(none_as_null=True), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_observation_parameters_observation_id_observations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_parameters')),
    sa.UniqueConstraint('observation_id', 'name', 'rank', name=op.f('uq_observation_parameters_observation_id_name_rank'))
    )
    op.create_table('observing_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('target_name', sa.String(length=128), nullable=False),
    sa.Column('ra_deg', sa.Double(), nullable=False),
    sa.Column('dec_deg', sa.Double(), nullable=False),
    sa.Column('duration_s', sa.Double(), nullable=False),
    sa.Column('overhead_s', sa.Double(), nullable=False),
    sa.Column('priority', sa.Double(), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('preferred_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('min_altitude_deg', sa.Double(), nullable=True),
    sa.Column('max_airmass', sa.Double(), nullable=True),
    sa.Column('twilight', sa.Enum('sunset', 'civil', 'nautical', 'astronomical', name='twilightlevel', native_enum=False, length=16), nullable=False),
    sa.Column('min_moon_separation_deg', sa.Double(), nullable=True),
    sa.Column('max_moon_illumination', sa.Double(), nullable=True),
    sa.Column('hour_angle_min_h', sa.Double(), nullable=True),
    sa.Column('hour_angle_max_h', sa.Double(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'completed', 'cancelled', 'expired', name='requeststatus', native_enum=False, length=16), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('duration_s > 0', name=op.f('ck_observing_requests_positive_duration')),
    sa.CheckConstraint('overhead_s >= 0', name=op.f('ck_observing_requests_nonnegative_overhead')),
    sa.CheckConstraint('priority >= 0', name=op.f('ck_observing_requests_nonnegative_priority')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_observing_requests_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_observing_requests_observation_id_observations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_observing_requests_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_observing_requests_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observing_requests')),
    sa.UniqueConstraint('name', name=op.f('uq_observing_requests_name'))
    )
    with op.batch_alter_table('observing_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observing_requests_status'), ['status'], unique=False)

    op.create_table('revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('obsid', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('norm', 'asis', 'remove', 'clone', name='revisionkind', native_enum=False, length=8), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('number >= 1 AND number <= 999', name=op.f('ck_revisions_number_range')),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_revisions_observation_id_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_revisions_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['revisions.id'], name=op.f('fk_revisions_superseded_by_id_revisions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_revisions_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions')),
    sa.UniqueConstraint('obsid', 'number', name=op.f('uq_revisions_obsid_number'))
    )
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revisions_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_revisions_observation_id'), ['observation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revisions_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_revisions_submitted_by_id'), ['submitted_by_id'], unique=False)

    op.create_table('exposures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.Enum('science', 'bias', 'dark', 'flat', 'seeing', 'pointing', name='exposurekind', native_enum=False, length=16), nullable=False),
    sa.Column('program', sa.String(length=32), nullable=False),
    sa.Column('target_name', sa.String(length=128), nullable=False),
    sa.Column('ra_deg', sa.Double(), nullable=True),
    sa.Column('dec_deg', sa.Double(), nullable=True),
    sa.Column('filter_name', sa.String(length=16), nullable=False),
    sa.Column('camera_mode', sa.String(length=16), nullable=False),
    sa.Column('exposure_s', sa.Double(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('airmass', sa.Double(), nullable=True),
    sa.Column('magnitude', sa.Double(), nullable=True),
    sa.Column('configuration_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['configuration_id'], ['instrument_configurations.id'], name=op.f('fk_exposures_configuration_id_instrument_configurations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['night_id'], ['nights.id'], name=op.f('fk_exposures_night_id_nights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['observing_requests.id'], name=op.f('fk_exposures_request_id_observing_requests'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_exposures_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exposures')),
    sa.UniqueConstraint('name', name=op.f('uq_exposures_name'))
    )
    with op.batch_alter_table('exposures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exposures_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_exposures_night_started', ['night_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exposures_program'), ['program'], unique=False)
        batch_op.create_index(batch_op.f('ix_exposures_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exposures_target_name'), ['target_name'], unique=False)

    op.create_table('request_rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('never_visible', 'windows_outside_night', 'visible_too_short', 'moon', 'hour_angle', 'outranked', 'time_lost', 'not_schedulable', name='rejectionreason', native_enum=False, length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('outranked_by', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['observing_requests.id'], name=op.f('fk_request_rejections_request_id_observing_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_request_rejections_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_rejections')),
    sa.UniqueConstraint('schedule_id', 'request_id', name=op.f('uq_request_rejections_schedule_id_request_id'))
    )
    with op.batch_alter_table('request_rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_rejections_request_id'), ['request_id'], unique=False)

    op.create_table('request_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('start < "end"', name=op.f('ck_request_windows_ordered')),
    sa.ForeignKeyConstraint(['request_id'], ['observing_requests.id'], name=op.f('fk_request_windows_request_id_observing_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_windows'))
    )
    with op.batch_alter_table('request_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_windows_request_id'), ['request_id'], unique=False)

    op.create_table('revision_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('original', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('requested', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_revision_values_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revision_values')),
    sa.UniqueConstraint('revision_id', 'name', 'rank', name=op.f('uq_revision_values_revision_id_name_rank'))
    )
    op.create_table('scheduled_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slew_s', sa.Double(), nullable=False),
    sa.CheckConstraint('start < "end"', name=op.f('ck_scheduled_blocks_ordered')),
    sa.ForeignKeyConstraint(['request_id'], ['observing_requests.id'], name=op.f('fk_scheduled_blocks_request_id_observing_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_scheduled_blocks_schedule_id_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_blocks'))
    )
    with op.batch_alter_table('scheduled_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_blocks_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_blocks_schedule_id'), ['schedule_id'], unique=False)

    op.create_table('signoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'signed', 'not_required', 'discarded', name='signoffstate', native_enum=False, length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_signoffs_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_signoffs_revision_id_revisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_signoffs_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signoffs')),
    sa.UniqueConstraint('revision_id', 'area', name=op.f('uq_signoffs_revision_id_area'))
    )
    with op.batch_alter_table('signoffs', schema=None) as batch_op:
        batch_op.create_index('ix_signoffs_area_state', ['area', 'state'], unique=False)

    op.create_table('data_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_id', sa.Integer(), nullable=False),
    sa.Column('exposure_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['configuration_id'], ['instrument_configurations.id'], name=op.f('fk_data_products_configuration_id_instrument_configurations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['exposure_id'], ['exposures.id'], name=op.f('fk_data_products_exposure_id_exposures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['night_id'], ['nights.id'], name=op.f('fk_data_products_night_id_nights'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_products')),
    sa.UniqueConstraint('path', name=op.f('uq_data_products_path'))
    )
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_products_exposure_id'), ['exposure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_products_night_id'), ['night_id'], unique=False)

    op.create_table('frame_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exposure_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('n_frames', sa.Integer(), nullable=False),
    sa.Column('header', sa.JSON(), nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exposure_id'], ['exposures.id'], name=op.f('fk_frame_files_exposure_id_exposures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frame_files')),
    sa.UniqueConstraint('path', name=op.f('uq_frame_files_path'))
    )
    with op.batch_alter_table('frame_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_frame_files_exposure_id'), ['exposure_id'], unique=False)

    op.create_table('metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_id', sa.Integer(), nullable=False),
    sa.Column('exposure_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['exposure_id'], ['exposures.id'], name=op.f('fk_metrics_exposure_id_exposures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['night_id'], ['nights.id'], name=op.f('fk_metrics_night_id_nights'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics')),
    sa.UniqueConstraint('exposure_id', 'name', name=op.f('uq_metrics_exposure_id_name'))
    )
    with op.batch_alter_table('metrics', schema=None) as batch_op:
        batch_op.create_index('ix_metrics_name_measured', ['name', 'measured_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_metrics_night_id'), ['night_id'], unique=False)

    op.create_table('pipeline_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('night_id', sa.Integer(), nullable=False),
    sa.Column('exposure_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Enum('pending', 'queued', 'running', 'done', 'failed', name='stagestate', native_enum=False, length=16), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('force_redo', sa.Boolean(), nullable=False),
    sa.Column('inputs_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['exposure_id'], ['exposures.id'], name=op.f('fk_pipeline_stages_exposure_id_exposures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['night_id'], ['nights.id'], name=op.f('fk_pipeline_stages_night_id_nights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_pipeline_stages_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_stages'))
    )
    with op.batch_alter_table('pipeline_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_stages_state'), ['state'], unique=False)
        batch_op.create_index('uq_pipeline_stages_exposure_stage', ['exposure_id', 'stage'], unique=True, sqlite_where=sa.text('exposure_id IS NOT NULL'), postgresql_where=sa.text('exposure_id IS NOT NULL'))
        batch_op.create_index('uq_pipeline_stages_night_stage', ['night_id', 'stage'], unique=True, sqlite_where=sa.text('exposure_id IS NULL'), postgresql_where=sa.text('exposure_id IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('pipeline_stages', schema=None) as batch_op:
        batch_op.drop_index('uq_pipeline_stages_night_stage', sqlite_where=sa.text('exposure_id IS NULL'), postgresql_where=sa.text('exposure_id IS NULL'))
        batch_op.drop_index('uq_pipeline_stages_exposure_stage', sqlite_where=sa.text('exposure_id IS NOT NULL'), postgresql_where=sa.text('exposure_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_pipeline_stages_state'))

    op.drop_table('pipeline_stages')
    with op.batch_alter_table('metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metrics_night_id'))
        batch_op.drop_index('ix_metrics_name_measured')

    op.drop_table('metrics')
    with op.batch_alter_table('frame_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_frame_files_exposure_id'))

    op.drop_table('frame_files')
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_products_night_id'))
        batch_op.drop_index(batch_op.f('ix_data_products_exposure_id'))

    op.drop_table('data_products')
    with op.batch_alter_table('signoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_signoffs_area_state')

    op.drop_table('signoffs')
    with op.batch_alter_table('scheduled_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_blocks_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_scheduled_blocks_request_id'))

    op.drop_table('scheduled_blocks')
    op.drop_table('revision_values')
    with op.batch_alter_table('request_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_windows_request_id'))

    op.drop_table('request_windows')
    with op.batch_alter_table('request_rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_rejections_request_id'))

    op.drop_table('request_rejections')
    with op.batch_alter_table('exposures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exposures_target_name'))
        batch_op.drop_index(batch_op.f('ix_exposures_started_at'))
        batch_op.drop_index(batch_op.f('ix_exposures_program'))
        batch_op.drop_index('ix_exposures_night_started')
        batch_op.drop_index(batch_op.f('ix_exposures_kind'))

    op.drop_table('exposures')
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revisions_submitted_by_id'))
        batch_op.drop_index(batch_op.f('ix_revisions_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_revisions_observation_id'))
        batch_op.drop_index(batch_op.f('ix_revisions_closed_at'))

    op.drop_table('revisions')
    with op.batch_alter_table('observing_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observing_requests_status'))

    op.drop_table('observing_requests')
    op.drop_table('observation_parameters')
    op.drop_table('configuration_items')
    op.drop_table('user_roles')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedules_night'))

    op.drop_table('schedules')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_night'))

    op.drop_table('reports')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_target_name'))
        batch_op.drop_index(batch_op.f('ix_observations_status'))
        batch_op.drop_index(batch_op.f('ix_observations_sequence_number'))
        batch_op.drop_index(batch_op.f('ix_observations_pi_name'))
        batch_op.drop_index(batch_op.f('ix_observations_obs_type'))
        batch_op.drop_index(batch_op.f('ix_observations_instrument'))
        batch_op.drop_index(batch_op.f('ix_observations_dec_deg'))
        batch_op.drop_index(batch_op.f('ix_observations_approved'))

    op.drop_table('observations')
    with op.batch_alter_table('instrument_configurations', schema=None) as batch_op:
        batch_op.drop_index('ix_instrument_configurations_validity')

    op.drop_table('instrument_configurations')
    op.drop_table('duty_shifts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_stream'))
        batch_op.drop_index(batch_op.f('ix_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_alerts_event_time'))

    op.drop_table('alerts')
    op.drop_table('users')
    op.drop_table('roles')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    op.drop_table('nights')
