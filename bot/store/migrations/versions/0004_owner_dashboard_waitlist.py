"""the owner's dashboard and the waitlist: the activity ledger, waitlist entries and offers, and the indexes the
dashboard's aggregates read by (messages by author and time, handoffs and reminders by time)

Revision ID: 0004_owner
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = '0004_owner'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('ref', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_kind_at', ['kind', 'at', 'label', 'channel', 'conversation_id'],
                              unique=False)

    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_type_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('time_from', sa.String(length=5), nullable=False),
    sa.Column('time_to', sa.String(length=5), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], ),
    sa.ForeignKeyConstraint(['appointment_type_id'], ['appointment_types.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_waitlist_status_created', ['status', 'created_at'], unique=False)

    op.create_table('waitlist_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('end', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('slot_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('expires_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('answered_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entries.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_offers_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offers_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offers_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_waitlist_offers_time', ['provider_id', 'start'], unique=False)
        batch_op.create_index('ix_waitlist_offers_status', ['status', 'expires_at'], unique=False)

    # what the dashboard reads by: patient messages by time (covering the conversation), handoffs and reminders
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_author_created', ['author', 'created_at', 'conversation_id'],
                              unique=False)
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index('ix_handoffs_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_sends_due_at', ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_sends_due_at')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_handoffs_created_at')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_author_created')
    with op.batch_alter_table('waitlist_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_offers_status')
        batch_op.drop_index('ix_waitlist_offers_time')
        batch_op.drop_index(batch_op.f('ix_waitlist_offers_created_at'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offers_patient_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offers_entry_id'))
    op.drop_table('waitlist_offers')
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_status_created')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_patient_id'))
    op.drop_table('waitlist_entries')
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_kind_at')
    op.drop_table('activity_events')
