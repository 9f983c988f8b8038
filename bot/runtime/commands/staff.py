"""``clinicbot staff``: manage staff console accounts.

``clinicbot staff add USERNAME --role staff|owner`` asks for the password twice (or reads one line from stdin
with ``--password-stdin``); ``clinicbot staff list`` shows the accounts (and which are locked after failed
sign-ins); ``clinicbot staff unlock USERNAME`` lifts a lock (owners can also do it on ``/console/staff``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from bot.identity import login_throttle
from bot.identity.staff import ROLES, StaffError, create_user, unlock
from bot.settings import get_settings
from bot.store import StaffUser, migrate, session_scope
from bot.store.models import utcnow

HELP = "manage staff console accounts (add, list, unlock)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="staff", help="owner may also change the practice settings")
    add.add_argument("--name", default="", help="name shown in the console (default: the username)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    sub.add_parser("list", help="list staff accounts")
    lift = sub.add_parser("unlock", help="let an account locked after failed sign-ins sign in again")
    lift.add_argument("username")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise StaffError("the passwords do not match")
    return first


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(settings.database_url)
    if args.action == "list":
        policy = login_throttle.Policy.from_settings(settings.console)
        with session_scope(settings.database_url) as session:
            users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
            locked = login_throttle.locked_names(session, [u.username for u in users], utcnow(), policy)
            for user in users:
                state = "disabled" if not user.active else "locked" if user.username in locked else "active"
                print(f"{user.username}\t{user.role}\t{state}")
        return 0
    if args.action == "unlock":
        with session_scope(settings.database_url) as session:
            lifted = unlock(session, args.username, by="cli")
        print(f"unlocked {args.username.strip().lower()}" if lifted else f"{args.username} was not locked")
        return 0
    try:
        password = _password(args.password_stdin)
        with session_scope(settings.database_url) as session:
            user = create_user(session, args.username, password, role=args.role, display_name=args.name)
            print(f"created {user.role} {user.username}")
    except StaffError as exc:
        print(f"clinicbot staff: {exc}", file=sys.stderr)
        return 1
    return 0
