"""The deployment files parse: the systemd units (service and socket) pass `systemd-analyze
verify` (paths pointed at this checkout), the nginx site passes `nginx -t` (also run by the
nginx test). What the units ask of the server (the socket passed as fd 3, sd_notify's
messages, SIGHUP, SIGTERM) is tested in tests/reliability/test_reload.py."""

from __future__ import annotations

import shutil
import subprocess

from tests.servers import ROOT


def test_systemd_unit_verifies(tmp_path):
    # scripts/system-deps.sh installs Debian's systemd (for systemd-analyze) with the test command.
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run `make test` (scripts/system-deps.sh)"
    unit = (ROOT / "deploy" / "pwpush.service").read_text()
    env_file = tmp_path / "pwpush.env"
    env_file.write_text("")
    unit = (unit.replace("/opt/pwpush", str(ROOT)).replace("/etc/pwpush/pwpush.env", str(env_file))
            .replace("User=pwpush", "User=root").replace("Group=pwpush", "Group=root"))
    (tmp_path / "pwpush.service").write_text(unit)
    shutil.copy(ROOT / "deploy" / "pwpush.socket", tmp_path / "pwpush.socket")
    checked = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "pwpush.socket"),
                              str(tmp_path / "pwpush.service")], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "pwpush." not in checked.stderr, checked.stderr
