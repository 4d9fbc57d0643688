"""Admin commands: `python -m pwpush_app COMMAND --help`."""

from __future__ import annotations

import argparse
import os
import sys

# The settings are imported by the commands that read them, not here: `serve`'s keeper binds
# its port and starts the app's first generation before anything of the app is imported.


def cmd_migrate(_args) -> int:
    from pwpush_app.core.db import migrate
    from pwpush_app.settings import get_settings

    migrate(get_settings().db_url)
    print("Database is at the newest schema.")
    return 0


def cmd_settings_table(_args) -> int:
    from pwpush_app.settings import settings_table_markdown

    print(settings_table_markdown())
    return 0


def cmd_check_settings(_args) -> int:
    from pwpush_app.settings import get_settings

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


def _new_password(args) -> str | None:
    """The new password: typed twice at a terminal, or one line on standard input (scripts)."""
    if args.generate:
        import secrets

        return secrets.token_urlsafe(18)
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New password: ")
        if first != getpass.getpass("New password again: "):
            print("The two passwords are not the same; nothing was changed.", file=sys.stderr)
            return None
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_reset_password(args) -> int:
    from pwpush_app.core import accounts
    from pwpush_app.core.account_recovery import account_for_email
    from pwpush_app.core.runtime import get_runtime

    runtime = get_runtime()
    user = account_for_email(runtime, args.email)
    if user is None:
        print(f"No account has the address {args.email}; nothing was changed.", file=sys.stderr)
        return 2
    password = _new_password(args)
    if password is None:
        return 2
    try:
        accounts.set_password(runtime, user, password)
    except accounts.AccountError as error:
        print(f"{error} Nothing was changed.", file=sys.stderr)
        return 2
    print(f"New password set for {user.email}: every session of the account has ended and any lock-out is lifted.",
          file=sys.stderr)
    if args.generate:
        print(password)
    return 0


def cmd_make_admin(args) -> int:
    from pwpush_app.core.accounts import AccountError
    from pwpush_app.core.admin import LastAdministrator, set_admin
    from pwpush_app.core.runtime import get_runtime

    try:
        user = set_admin(get_runtime(), args.email, admin=not args.remove)
    except AccountError as error:
        print(f"{error} Nothing was changed.", file=sys.stderr)
        return 2
    except LastAdministrator as error:
        print(f"{error} Nothing was changed.", file=sys.stderr)
        return 1
    print(f"{user.email} is {'no longer ' if args.remove else ''}an administrator"
          f"{'' if args.remove else ' (/admin)'}.", file=sys.stderr)
    return 0


def cmd_send_test_mail(args) -> int:
    from pwpush_app.core import letters
    from pwpush_app.core.clock import utcnow
    from pwpush_app.core.db import transaction
    from pwpush_app.core.outbox import MailUnavailable, queue_mail, queued_mail, send_due_mails
    from pwpush_app.core.runtime import get_runtime

    runtime = get_runtime()
    print(f"Mail server: {runtime.settings.mail.describe_server()}", file=sys.stderr)
    try:
        with transaction(runtime.engine) as db:
            mail_id = queue_mail(db, runtime, letters.test_letter(runtime.settings, args.email), "test", now=utcnow())
    except MailUnavailable as error:
        print(error, file=sys.stderr)
        return 2
    done = send_due_mails(runtime, "send-test-mail")
    left = queued_mail(runtime, mail_id)
    if left is None:
        print(f"Sent to {args.email}: check that it arrived (and not in spam).", file=sys.stderr)
        return 0
    print(f"Not sent ({done.retrying} to try again, {done.given_up} given up): {left.last_error}", file=sys.stderr)
    print("The server's background sender keeps trying queued mail; this test mail too.", file=sys.stderr)
    return 1


def cmd_serve(args) -> int:
    from pwpush_app.server import serve

    return serve(args.host, args.port, standby=not args.no_standby)


def cmd_build(args) -> int:
    from reflex_base import constants
    from reflex_base.environment import environment

    from pwpush_app.frontend import FrontendBuildError, app_root, build_frontend, use_local_bun
    from pwpush_app.settings import get_settings

    # The build is made for a placeholder address (each start points its copy at its own);
    # the port only settles Reflex's configuration for the build.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    os.environ["REFLEX_FRONTEND_PORT"] = os.environ["REFLEX_BACKEND_PORT"] = str(args.port)
    try:
        use_local_bun(app_root())
        folder = build_frontend(get_settings())
    except FrontendBuildError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"The frontend for these settings is built: {folder}")
    return 0


def _default_port() -> int:
    return int(os.environ.get("REFLEX_FRONTEND_PORT") or os.environ.get("REFLEX_BACKEND_PORT") or 3000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pwpush_app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the production server (pages, websocket and API on one port); builds the frontend first "
        "only if its sources or settings changed",
        description="Run the production server from the prebuilt frontend (built first if the pages' sources "
        "or settings changed since the last build). SIGHUP reloads without refusing a connection (new code, "
        "new build, settings read again); SIGTERM finishes the requests in flight and stops. A warm standby "
        "copy of the app waits beside the serving one, so that a crash of the app costs a fraction of a second. "
        "Workers: GRANIAN_WORKERS (default 1; with REFLEX_REDIS_URL 2 x cores + 1). See docs/deploy.md.",
    )
    serve.add_argument("--host", default="0.0.0.0",
                       help="address to listen on (default 0.0.0.0; 127.0.0.1 behind a proxy on the same host)")
    serve.add_argument("--port", type=int, default=_default_port(), help="port to listen on (default 3000)")
    serve.add_argument("--no-standby", action="store_true",
                       help="no warm standby (saves its memory, see docs/deploy.md; a crash of the app then costs "
                       "a cold start of a few seconds)")
    serve.set_defaults(run=cmd_serve)
    build = commands.add_parser(
        "build",
        help="build the frontend for these settings now (install or image build time), unless built already",
    )
    build.add_argument("--port", type=int, default=_default_port(),
                       help="a port for Reflex's configuration while building (the build serves any address: "
                       "each server start points its copy of the pages at its own)")
    build.set_defaults(run=cmd_build)
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
    reset = commands.add_parser(
        "reset-password",
        help="set a new password for an account (when the site sends no mail, or for a locked-out admin)",
        description="Set a new password for the account EMAIL: typed twice at a terminal, or read as one line from "
        "standard input (echo 'new password' | ... reset-password EMAIL). Every session of the account ends and any "
        "lock-out is lifted; with account emails, its owner is told by mail.",
    )
    reset.add_argument("email")
    reset.add_argument("--generate", action="store_true",
                       help="make up a strong password and print it (shown once) instead of asking for one")
    reset.set_defaults(run=cmd_reset_password)
    make_admin = commands.add_parser(
        "make-admin",
        help="make an account an administrator (or, with --remove, no longer one)",
        description="Make the account EMAIL an administrator: it may open /admin at its next click. The account must "
        "exist (sign up first). PWP__ADMIN_EMAILS does the same for listed addresses when they log in, once "
        "confirmed by mail (account emails on).",
    )
    make_admin.add_argument("email")
    make_admin.add_argument("--remove", action="store_true",
                            help="take the administrator's rights away (refused, exit code 1, for the last administrator)")
    make_admin.set_defaults(run=cmd_make_admin)
    test_mail = commands.add_parser(
        "send-test-mail",
        help="send a test mail through PWP__MAIL__* now, and say whether the server took it",
        description="Queue a test mail to EMAIL and send it at once through the configured SMTP server; prints the "
        "server's refusal if it fails. Run it before turning on PWP__ENABLE_USER_ACCOUNT_EMAILS.",
    )
    test_mail.add_argument("email")
    test_mail.set_defaults(run=cmd_send_test_mail)
    commands.add_parser(
        "purge",
        help="expire overdue pushes and delete expired secrets now (the server's background job does this too)",
    ).set_defaults(run=cmd_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        # The server's keeper must bind its port at once: nothing of the app is imported here.
        return args.run(args)
    from pwpush_app.core.db import DatabaseUnavailable
    from pwpush_app.master_key import MasterKeyError
    from pwpush_app.settings import SettingsError

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
