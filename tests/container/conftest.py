"""Real podman (Debian's) for the container tests: a Debian base image made with mmdebstrap
from apt's own mirror (no container registry is reachable here), the app's image built from
the top-level Containerfile on it, and stand-ins for compose.yaml's PostgreSQL and Redis.

podman's settings for these machines live in a CONTAINERS_CONF file of the session's own:
no raised ulimits (root may not raise them here), runc (crun refuses this kernel's mixed
cgroup layout) and netavark (its DNS lets compose's services find each other by name).
Everything the tests create is named `pwpush-test-...` and removed after; the images stay,
so that a second run reuses their layers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.servers import ROOT, free_port

HERE = Path(__file__).resolve().parent
BASE_IMAGE = "localhost/pwpush-test-base:bookworm-slim"
APP_IMAGE = "localhost/pwpush-test:latest"
SERVICES_IMAGE = "localhost/pwpush-test-services:latest"
# The image's pages are built for this port's address, so that a container published on it
# serves them at once (another address would make it build at its first start).
PORT = free_port()
BASE_URL = f"http://localhost:{PORT}"
CA_FOLDER = Path("/usr/local/share/ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # with CA_FOLDER's certificates in it


class Podman:
    def __init__(self, conf: Path):
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def __call__(self, *args: str, check: bool = True, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
        done = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              **kwargs)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                                 f"{done.stderr[-3000:]}")
        return done

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0

    def build(self, tag: str, containerfile: Path, context: Path, **build_args: str) -> float:
        """Build (with the layers of earlier builds); seconds it took."""
        started = time.monotonic()
        mounts = ["-v", f"{CA_FOLDER}:{CA_FOLDER}:ro"] if CA_FOLDER.is_dir() and any(CA_FOLDER.iterdir()) else []
        args = [f"--build-arg={name}={value}" for name, value in build_args.items()]
        # The docker format keeps the HEALTHCHECK (OCI's format has none).
        self("build", "--format", "docker", *mounts, *args, "-f", str(containerfile), "-t", tag, str(context),
             timeout=1800)
        return time.monotonic() - started

    def volume_files(self, volume: str) -> list[Path]:
        mountpoint = Path(self("volume", "inspect", volume, "--format", "{{.Mountpoint}}").stdout.strip())
        return [path for path in mountpoint.rglob("*") if path.is_file()]


def apt_mirror() -> str:
    """The Debian mirror apt uses on this machine (deb822 .sources or a sources.list line)."""
    for path in [*sorted(Path("/etc/apt/sources.list.d").glob("*")), Path("/etc/apt/sources.list")]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.MULTILINE):
            uri = match.group(1)
            if "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"


def make_base_image(podman: Podman) -> None:
    """A slim Debian bookworm from apt's mirror (what debian:bookworm-slim holds: no
    documentation, manuals or translations, no apt lists)."""
    slim = ["--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-include=/usr/share/doc/*/copyright", "--dpkgopt=path-exclude=/usr/share/locale/*",
            "--dpkgopt=path-include=/usr/share/locale/locale.alias", "--dpkgopt=path-exclude=/usr/share/info/*",
            "--aptopt=Apt::Install-Recommends \"false\""]
    debootstrap = subprocess.Popen(
        ["mmdebstrap", "--variant=minbase", "--mode=root", *slim,
         "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*",
         "bookworm", "-", f"deb {apt_mirror()} bookworm main"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    podman("import", "-", BASE_IMAGE, stdin=debootstrap.stdout)
    debootstrap.wait(600)
    assert debootstrap.returncode == 0, debootstrap.stderr.read().decode()[-3000:]


@pytest.fixture(scope="session")
def podman(tmp_path_factory) -> Podman:
    if shutil.which("podman") is None or shutil.which("mmdebstrap") is None:
        pytest.skip("podman or mmdebstrap is not installed (scripts/system-deps.sh installs them)")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    hard = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip()
    conf.write_text(f'[containers]\ndefault_ulimits = ["nofile={hard}:{hard}", "nproc=32768:32768"]\n'
                    '[engine]\nruntime = "runc"\n'
                    # netavark's DNS (aardvark-dns): compose's services find each other by name
                    '[network]\nnetwork_backend = "netavark"\n')
    runner = Podman(conf)
    if not runner.exists(BASE_IMAGE):
        make_base_image(runner)
    # Without a network: a skip only where podman cannot run a container at all; a broken
    # network setup (netavark without iptables, say) fails the tests instead of hiding them.
    tried = runner("run", "--rm", "--network", "none", BASE_IMAGE, "true", check=False, timeout=120)
    if tried.returncode != 0:
        pytest.skip(f"podman cannot run containers on this machine: {tried.stderr.strip()[-500:]}")
    return runner


@pytest.fixture(scope="session")
def app_image(podman) -> str:
    """The top-level Containerfile (its pages run at any address: the containers use BASE_URL)."""
    seconds = podman.build(APP_IMAGE, ROOT / "Containerfile", ROOT, BASE=BASE_IMAGE)
    size = int(podman("image", "inspect", APP_IMAGE, "--format", "{{.Size}}").stdout.strip())
    record("container-image", {"build_seconds": round(seconds, 1), "image_bytes": size,
                                "image_mb": round(size / 1e6), "base_image": BASE_IMAGE})
    return APP_IMAGE


@pytest.fixture(scope="session")
def services_image(podman) -> str:
    podman.build(SERVICES_IMAGE, HERE / "services.Containerfile", HERE, BASE=BASE_IMAGE)
    return SERVICES_IMAGE


def record(name: str, figures: dict) -> None:
    print(json.dumps(figures))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**known, **figures}, indent=2))


def wait_for_answer(url: str, timeout: float = 300, alive=lambda: True) -> float:
    """Seconds until `GET /ping` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert alive(), "the container stopped"
        try:
            if httpx.get(f"{url}/ping", timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def unique(prefix: str) -> str:
    return f"pwpush-test-{prefix}-{os.urandom(4).hex()}"
