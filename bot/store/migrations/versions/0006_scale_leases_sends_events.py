"""scale out: leases (one scheduler, conversation turns, gateway presence), the outbound send ledger, live events
between gateways, the owner's settings in the database

Revision ID: 0006_scale
Revises: 0005_security
"""
from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = '0006_scale'
down_revision = '0005_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('acquired_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leases_expires_at'), ['expires_at'], unique=False)

    op.create_table('outbound_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('finished_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('error', sa.String(length=32), nullable=False),
    sa.Column('reconciled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbound_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_sends_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_sends_status'), ['status'], unique=False)

    op.create_table('live_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_events_at'), ['at'], unique=False)

    _audit_refuses_changes_on_postgresql()

    op.create_table('owner_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def _audit_refuses_changes_on_postgresql() -> None:
    """0001's PostgreSQL rules turned UPDATE and DELETE on the audit trail into silent no-ops; a trigger refuses
    them (and TRUNCATE) with an error, as SQLite's trigger does, so a caller learns it tried."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP RULE IF EXISTS audit_events_no_update ON audit_events")
    op.execute("DROP RULE IF EXISTS audit_events_no_delete ON audit_events")
    op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
               "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$")
    op.execute("CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
        op.execute("CREATE RULE audit_events_no_update AS ON UPDATE TO audit_events DO INSTEAD NOTHING")
        op.execute("CREATE RULE audit_events_no_delete AS ON DELETE TO audit_events DO INSTEAD NOTHING")
    op.drop_table('owner_settings')
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_events_at'))
    op.drop_table('live_events')
    with op.batch_alter_table('outbound_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_sends_status'))
        batch_op.drop_index(batch_op.f('ix_outbound_sends_message_id'))
    op.drop_table('outbound_sends')
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leases_expires_at'))
    op.drop_table('leases')
