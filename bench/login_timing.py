"""Does a failed login take longer when the email has an account?  (Outside review, finding 6.)

`python -m bench.login_timing [--attempts 300]`: on a fresh SQLite database in a temporary
folder (durability FULL, as shipped), alternates a wrong password for a real account with
an unknown email, through the core's `log_in`, and prints each path's median and spread.
A measurement, not a test: the suite checks the cause (both paths do one Argon2 check and
one write, tests/core/test_accounts.py::test_every_failed_login_does_the_same_work).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pwpush_app.core import accounts
from pwpush_app.core.db import migrate
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.servers import make_env


def run(attempts: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="pwpush-login-") as folder:
        data = Path(folder) / "data"
        data.mkdir(mode=0o700)
        settings = load_settings(make_env(data, PWPUSH_LOGIN_MAX_FAILURES="1000"))
        migrate(settings.db_url)
        runtime = open_runtime(settings)
        accounts.sign_up(runtime, "alice@example.com", "correct horse battery")
        timings: dict[str, list[float]] = {"wrong password, real account": [], "unknown email": []}
        emails = {"wrong password, real account": "alice@example.com", "unknown email": "nobody@example.com"}
        for attempt in range(attempts + 10):
            for path, email in emails.items():
                started = time.perf_counter()
                try:
                    accounts.log_in(runtime, email, f"wrong guess {attempt}", f"198.51.100.{attempt % 250}")
                except accounts.LoginFailed:
                    pass
                if attempt >= 10:  # the first ten warm up
                    timings[path].append((time.perf_counter() - started) * 1000)
        runtime.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.login_timing")
    parser.add_argument("--attempts", type=int, default=300)
    timings = run(parser.parse_args().attempts)
    for path, values in timings.items():
        values.sort()
        print(f"{path:30} median {statistics.median(values):6.1f} ms   p10 {values[len(values) // 10]:6.1f}   "
              f"p90 {values[len(values) * 9 // 10]:6.1f}   ({len(values)} attempts)")


if __name__ == "__main__":
    main()
