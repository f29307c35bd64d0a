"""Dashboard administration from the command line.

python -m bot.review users add NAME --role admin|reviewer   (asks for the password; or --password-stdin)
python -m bot.review users list | set-password NAME | role NAME ROLE | disable NAME | enable NAME
python -m bot.review retention [--days N] [--dry-run]      delete conversations older than N days
python -m bot.review erase CONVERSATION_ID ...             delete conversations completely
python -m bot.review index                                  bring conversation summaries up to date
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from bot.review import accounts, index, privacy
from bot.review.db import get_engine
from bot.settings import get_settings


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (12+ characters): ")
    if getpass.getpass("Same password again: ") != first:
        raise accounts.AccountError("The two passwords differ.")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; exit code 1 with a one-line message on refusal."""
    parser = argparse.ArgumentParser(prog="python -m bot.review", description="Review dashboard administration.")
    commands = parser.add_subparsers(dest="command", required=True)
    user = commands.add_parser("users", help="manage dashboard accounts")
    user.add_argument("action", choices=["add", "list", "set-password", "role", "disable", "enable"])
    user.add_argument("name", nargs="?")
    user.add_argument("new_role", nargs="?", choices=accounts.ROLES)
    user.add_argument("--role", choices=accounts.ROLES, default="reviewer")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    retention = commands.add_parser("retention", help="delete conversations older than the retention period")
    retention.add_argument("--days", type=int, default=get_settings().review_retention_days)
    retention.add_argument("--dry-run", action="store_true")
    erase = commands.add_parser("erase", help="delete conversations completely (on a parent's request)")
    erase.add_argument("conversation_ids", nargs="+")
    commands.add_parser("index", help="bring the conversation summaries up to date")
    args = parser.parse_args(argv)
    engine = get_engine()
    try:
        if args.command == "users":
            if args.action != "list" and not args.name:
                parser.error(f"users {args.action} needs a user name")
            if args.action == "add":
                accounts.add_user(engine, args.name, _password(args.password_stdin), args.role)
                print(f"Added {args.name.lower()} ({args.role}).")
            elif args.action == "list":
                for row in accounts.list_users(engine):
                    print(f"{row['username']:<24} {row['role']:<9} {'active' if row['active'] else 'disabled'}")
            elif args.action == "set-password":
                accounts.set_password(engine, args.name, _password(args.password_stdin))
                print(f"Password changed for {args.name}; their sessions were ended.")
            elif args.action == "role":
                if not args.new_role:
                    parser.error("users role NAME needs a role: reviewer or admin")
                accounts.set_role(engine, args.name, args.new_role)
                print(f"{args.name} is now {args.new_role}.")
            else:
                accounts.set_active(engine, args.name, args.action == "enable")
                print(f"{args.name} is now {'enabled' if args.action == 'enable' else 'disabled'}.")
        elif args.command == "retention":
            if args.days < 1:
                parser.error("--days must be at least 1")
            if args.dry_run:
                print(f"{len(privacy.expired(engine, args.days))} conversations are older than {args.days} days.")
            else:
                print(f"Deleted {privacy.apply_retention(engine, args.days)} conversations older than {args.days} days.")
        elif args.command == "erase":
            print(f"Erased {privacy.erase(engine, args.conversation_ids, 'cli', 'erased on request')} conversations.")
        else:
            print(f"Read {index.sync(engine)} new events.")
    except accounts.AccountError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
