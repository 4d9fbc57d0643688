"""compose.yaml as shipped, brought up with podman-compose: the app (two workers) with
PostgreSQL and Redis. A push made through its published port survives `down` and `up`
(containers recreated, volumes kept), and neither the app's volume nor PostgreSQL's holds
the secret in plaintext.

PostgreSQL and Redis run from local stand-ins for the official images the file names
(tests/container/services.Containerfile: no registry is reachable here), chosen with
compose.yaml's own POSTGRES_IMAGE / REDIS_IMAGE variables; the app's image is the one
built from the Containerfile (PWPUSH_IMAGE), for the same address.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT

from .conftest import BASE_IMAGE, BASE_URL, PORT, unique, wait_for_answer

WORKERS = 2
# The first test of a session builds the images (about 2.5 min on an idle 2-core machine).
pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]


def compose(podman, project: str, env_file: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "podman-compose"), "--env-file", str(env_file), "-p", project,
               "-f", str(ROOT / "compose.yaml"), *args]
    done = subprocess.run(command, env=podman.env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_compose_with_postgresql_redis_and_two_workers_keeps_pushes_and_no_plaintext(podman, app_image,
                                                                                    services_image, tmp_path):
    project = unique("compose").replace("-", "")
    canary = f"compose-canary-{os.urandom(8).hex()}"
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join([
        f"POSTGRES_PASSWORD={os.urandom(12).hex()}", f"REDIS_PASSWORD={os.urandom(12).hex()}",
        f"PWPUSH_IMAGE={app_image}", f"POSTGRES_IMAGE={services_image}", f"REDIS_IMAGE={services_image}",
        f"BASE={BASE_IMAGE}", f"PWPUSH_PORT={PORT}", f"PWP__OVERRIDE_BASE_URL={BASE_URL}",
        f"GRANIAN_WORKERS={WORKERS}", "",
    ]))
    try:
        compose(podman, project, env_file, "up", "-d")
        wait_for_answer(BASE_URL)
        app = f"{project}_app_1"
        processes = podman("top", app, "args").stdout
        # the serving generation, its workers (forked from it: the same command line) and
        # the warm standby generation that takes over if the serving one dies
        assert processes.count("pwpush_app.generation") == 1 + WORKERS + 1, processes
        answer = httpx.post(f"{BASE_URL}/api/v2/pushes", timeout=60,
                            json={"push": {"payload": canary, "expire_after_views": 2}})
        assert answer.status_code == 201, answer.text
        token = answer.json()["url_token"]
        assert httpx.get(f"{BASE_URL}/api/v2/pushes/{token}", timeout=60).json()["payload"] == canary

        compose(podman, project, env_file, "down")  # containers gone, volumes kept
        compose(podman, project, env_file, "up", "-d")
        wait_for_answer(BASE_URL)
        assert httpx.get(f"{BASE_URL}/api/v2/pushes/{token}", timeout=60).json()["payload"] == canary
        assert httpx.get(f"{BASE_URL}/api/v2/pushes/{token}", timeout=60).json()["payload"] is None
        compose(podman, project, env_file, "stop")

        for volume in (f"{project}_data", f"{project}_postgres"):
            files = podman.volume_files(volume)
            assert files, volume
            assert [str(path) for path in files if canary.encode() in path.read_bytes()] == []
    finally:
        subprocess.run([str(Path(sys.executable).parent / "podman-compose"), "--env-file", str(env_file), "-p", project,
                        "-f", str(ROOT / "compose.yaml"), "down", "-v"], env=podman.env, cwd=ROOT,
                       capture_output=True, timeout=300)
