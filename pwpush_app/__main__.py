"""Admin commands: `python -m pwpush_app COMMAND --help`."""

from __future__ import annotations

import argparse
import sys

from pwpush_app.core.db import DatabaseUnavailable
from pwpush_app.master_key import MasterKeyError
from pwpush_app.settings import SettingsError, get_settings, settings_table_markdown


def cmd_migrate(_args) -> int:
    from pwpush_app.core.db import migrate

    migrate(get_settings().db_url)
    print("Database is at the newest schema.")
    return 0


def cmd_settings_table(_args) -> int:
    print(settings_table_markdown())
    return 0


def cmd_check_settings(_args) -> int:
    get_settings()
    print("Settings are valid.")
    return 0


def cmd_create_token(args) -> int:
    from pwpush_app.core.accounts import AccountError, issue_api_token
    from pwpush_app.core.runtime import get_runtime

    try:
        user, token = issue_api_token(get_runtime(), args.email)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"API token for {user.email} (shown once; any earlier token no longer works):", file=sys.stderr)
    print(token)
    return 0


def cmd_rotate_keys(_args) -> int:
    from pwpush_app.core.keys import rotate_keys
    from pwpush_app.core.runtime import get_runtime

    report = rotate_keys(get_runtime())
    print(report.describe())
    return 1 if report.unreadable else 0


def cmd_purge(_args) -> int:
    from pwpush_app.core.purge import purge_expired
    from pwpush_app.core.runtime import get_runtime

    expired = purge_expired(get_runtime())
    print(f"Purged: {expired} overdue push{'es' if expired != 1 else ''} expired now; "
          "the secrets of every expired push are deleted.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pwpush_app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    commands.add_parser("settings-table", help="print the settings as a Markdown table").set_defaults(
        run=cmd_settings_table
    )
    commands.add_parser("check-settings", help="validate the environment's settings").set_defaults(
        run=cmd_check_settings
    )
    create_token = commands.add_parser(
        "create-token",
        help="create the user if needed and print a new API token (shown once)",
        description="Create the account EMAIL if absent and give it a fresh API token for the JSON API "
        "(Authorization: Bearer <token>). Only a digest is stored; the previous token stops working.",
    )
    create_token.add_argument("email")
    create_token.set_defaults(run=cmd_create_token)
    commands.add_parser(
        "rotate-keys",
        help="re-wrap every live push's data key under the current master key (see docs/keys.md)",
    ).set_defaults(run=cmd_rotate_keys)
    commands.add_parser(
        "purge",
        help="expire overdue pushes and delete expired secrets now (the server's background job does this too)",
    ).set_defaults(run=cmd_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SettingsError, MasterKeyError) as error:
        print(error, file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(f"The database is unavailable or not migrated ({error}); nothing was changed.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
