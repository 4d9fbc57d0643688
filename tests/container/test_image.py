"""The container image (top-level Containerfile) as a self-hoster runs it with podman: one
container, its data in a volume, a published port on 127.0.0.1.

A sender creates a secret in the page and a recipient reveals it in another browser; a
push made through the API survives a reload (SIGHUP through tini) and a restart; the
volume never holds the secret in plaintext; the app runs as its own user, from the
frontend the image was built with, and reports healthy.
"""

from __future__ import annotations

import os
import stat
import time

import httpx
import pytest

from .conftest import BASE_URL, CA_FOLDER, HOST_CA_BUNDLE, PORT, record, unique, wait_for_answer

# The first test of a session builds the images (about 2.5 min on an idle 2-core machine,
# from an empty podman store).
pytestmark = [pytest.mark.container, pytest.mark.browser, pytest.mark.timeout(1800)]


def create(payload: str, views: int) -> str:
    answer = httpx.post(f"{BASE_URL}/api/v2/pushes", json={"push": {"payload": payload, "expire_after_views": views}},
                        timeout=60)
    assert answer.status_code == 201, answer.text
    return answer.json()["url_token"]


def reveal(token: str) -> str | None:
    return httpx.get(f"{BASE_URL}/api/v2/pushes/{token}", timeout=60).json()["payload"]


def reveal_in_browser(chromium, secret: str) -> str:
    """The sender's form, then the link opened in another browser and revealed."""
    sender_context, recipient_context = chromium.new_context(), chromium.new_context()
    try:
        sender = sender_context.new_page()
        sender.set_default_timeout(60_000)
        sender.goto(BASE_URL + "/")
        sender.wait_for_selector("#app-ready", state="attached")
        sender.fill("#payload", secret)
        sender.click("#create")
        sender.wait_for_function("() => document.getElementById('share-link')?.value.length > 0")
        link = sender.input_value("#share-link")
        assert link.startswith(BASE_URL + "/p/")
        recipient = recipient_context.new_page()
        recipient.set_default_timeout(60_000)
        recipient.goto(link)
        recipient.click("#reveal")
        recipient.wait_for_function("() => document.getElementById('secret-box')?.value.length > 0")
        return recipient.input_value("#secret-box")
    finally:
        sender_context.close()
        recipient_context.close()


def test_one_container_with_a_volume_serves_reloads_restarts_and_keeps_no_plaintext(podman, app_image, chromium):
    name, volume = unique("app"), unique("data")
    canary = f"container-canary-{os.urandom(8).hex()}"
    podman("volume", "create", volume)
    try:
        podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{PORT}:3000", "-v", f"{volume}:/data",
               "-e", f"PWP__OVERRIDE_BASE_URL={BASE_URL}", app_image)
        alive = lambda: podman("inspect", name, "--format", "{{.State.Running}}").stdout.strip() == "true"  # noqa: E731
        first_answer = wait_for_answer(BASE_URL, alive=alive)
        logs = podman("logs", name).stdout + podman("logs", name).stderr
        assert "Building the frontend" not in logs  # the image's own build, served at once
        assert podman("exec", name, "id", "-u").stdout.strip() == "10001"  # not root
        assert podman("healthcheck", "run", name, check=False).returncode == 0  # HEALTHCHECK: healthy

        assert reveal_in_browser(chromium, "through-the-container-page") == "through-the-container-page"
        token = create(canary, views=3)
        assert reveal(token) == canary

        # SIGHUP reaches the server through tini: a new generation takes over.
        before = podman("top", name, "pid", "args").stdout
        podman("kill", "--signal", "HUP", name)
        deadline = time.monotonic() + 300
        while "draining the old one" not in podman("logs", name).stderr + podman("logs", name).stdout:
            assert time.monotonic() < deadline, podman("logs", name).stderr[-3000:]
            time.sleep(0.5)
        assert podman("top", name, "pid", "args").stdout != before
        assert reveal(token) == canary

        restarted = time.monotonic()
        podman("restart", name)  # SIGTERM, then a new start on the same volume
        wait_for_answer(BASE_URL, alive=alive)
        after_restart = time.monotonic() - restarted
        assert reveal(token) == canary  # the third and last view, after the restart
        assert reveal(token) is None
        podman("stop", name)

        files = podman.volume_files(volume)
        names = {path.name for path in files}
        assert {"pwpush.db", "master.key"} <= names
        key = next(path for path in files if path.name == "master.key")
        assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_uid == 10001
        holding = [str(path) for path in files if canary.encode() in path.read_bytes()]
        assert holding == []  # the secret never sits in the volume in plaintext
    finally:
        podman("rm", "-f", name, check=False)
        podman("volume", "rm", "-f", volume, check=False)
    record("container-image", {"first_answer_after_run_s": round(first_answer, 2),
                               "first_answer_after_restart_s": round(after_restart, 2)})


@pytest.mark.soak
def test_a_container_started_with_other_page_settings_builds_its_pages_at_first_start(podman, app_image):
    """The image's pages were built for the default title; a container told another one
    builds its pages at its first start (as its own user), then serves them."""
    name = unique("retitled")
    # The build asks the npm registry for the frontend's packages: where this machine reaches
    # it through a proxy with its own CA (the image's build got it too), the container gets it.
    trust = (["-v", f"{HOST_CA_BUNDLE}:/run/host-ca.crt:ro", "-e", "NODE_EXTRA_CA_CERTS=/run/host-ca.crt"]
             if CA_FOLDER.is_dir() and any(CA_FOLDER.iterdir()) and HOST_CA_BUNDLE.is_file() else [])
    try:
        podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{PORT}:3000", *trust,
               "-e", f"PWP__OVERRIDE_BASE_URL={BASE_URL}", "-e", "PWP__BRAND__TITLE=Acme Secrets", app_image)
        wait_for_answer(BASE_URL, timeout=900)
        assert "<title>Acme Secrets</title>" in httpx.get(BASE_URL + "/", timeout=60).text
        assert "Frontend built in" in podman("logs", name).stderr + podman("logs", name).stdout
    finally:
        podman("rm", "-f", name, check=False)
