"""security: one-time verification codes, console sign-in throttling, how each verification was made

Revision ID: 0005_security
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import bot.store.models


revision = '0005_security'
down_revision = '0004_owner'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sending_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_codes_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_codes_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_codes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_codes_sending_at'), ['sending_at'], unique=False)
    op.create_table('login_throttle',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('blocked_until', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('locked_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'key')
    )
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='name_dob', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_column('method')
    op.drop_table('login_throttle')
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_codes_sending_at'))
        batch_op.drop_index(batch_op.f('ix_verification_codes_created_at'))
        batch_op.drop_index(batch_op.f('ix_verification_codes_patient_id'))
        batch_op.drop_index(batch_op.f('ix_verification_codes_conversation_id'))
    op.drop_table('verification_codes')
