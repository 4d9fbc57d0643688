"""Start-up: time from the run command to the first page served.

    .venv/bin/python -m bench startup [--runs 3] [--fresh-runs 2] [--quick]

- existing build: `reflex run --env prod` in a private copy of the app that has been built
  (and run) once before, as a restart after a reboot or a settings change;
- fresh clone: `git clone` of the committed HEAD, then the README's `make run` (venv,
  `pip install -e .`, bun from the npm registry, migrations, `reflex run --env prod`).

"Served" means both: `GET /` answers 200 with the HTML page and the backend answers
(`GET /api/v2/version` 200). Output lines of the run are timestamped to split the time
into phases.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import ROOT, save, spread
from tests.servers import LiveServer, free_port

READY_TIMEOUT_S = 300  # existing build
FRESH_TIMEOUT_S = 1500  # a fresh clone downloads and builds everything


class TimedOutput:
    """Reads a process's output in a thread and remembers when each line arrived."""

    def __init__(self, process: subprocess.Popen, started: float, log: Path):
        self.started = started
        self.lines: list[tuple[float, str]] = []
        self._log = log
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        with open(self._log, "a") as log:
            for raw in process.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.lines.append((time.perf_counter() - self.started, line))
                log.write(line + "\n")

    def first(self, pattern: str) -> float | None:
        """Seconds after the start at which a line matching `pattern` first appeared."""
        for at, line in list(self.lines):
            if re.search(pattern, line):
                return at
        return None

    def tail(self, count: int = 40) -> str:
        return "\n".join(line for _, line in self.lines[-count:])


def wait_until_served(base: str, process: subprocess.Popen, started: float, timeout: float,
                      output: TimedOutput) -> dict:
    """Poll every 100 ms until the page and the backend both answer; seconds to each."""
    page_at = backend_at = None
    deadline = started + timeout
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{output.tail()}")
            try:
                if backend_at is None and client.get("/api/v2/version").status_code == 200:
                    backend_at = time.perf_counter() - started
                if page_at is None:
                    page = client.get("/")
                    if page.status_code == 200 and "<html" in page.text.lower():
                        page_at = time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if page_at is not None and backend_at is not None:
                return {"page_s": page_at, "backend_s": backend_at, "served_s": max(page_at, backend_at)}
            time.sleep(0.1)
    raise RuntimeError(f"nothing served in {timeout:.0f} s:\n{output.tail()}")


def stop_group(process: subprocess.Popen) -> None:
    """End the whole process group (make, reflex, granian, bun)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    # Children may outlive the leader; the group id stays theirs.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- with an existing build ------------------------------------------------------------------

def existing_build(runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pwpush-bench-startup-"))
    server = LiveServer(work / "data", free_port())
    samples = []
    try:
        server.start()  # the first run builds the app copy (and migrates the database)
        stop_group(server.process)
        command = [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod",
                   "--frontend-port", str(server.port), "--backend-port", str(server.port)]
        for _ in range(runs):
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=server.app_dir, env=server.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            output = TimedOutput(process, started, work / "server.log")
            try:
                served = wait_until_served(server.url, process, started, READY_TIMEOUT_S, output)
                served["compiled_s"] = output.first(r"^Compiling:")
                served["built_s"] = output.first(r"^Creating Production Build")
                served["app_running_line_s"] = output.first(r"App running at")
                samples.append(served)
            finally:
                stop_group(process)
    finally:
        server.stop()  # removes the app copy
        shutil.rmtree(work, ignore_errors=True)
    return {name: spread([s[name] for s in samples if s[name] is not None])
            for name in ("served_s", "page_s", "backend_s", "compiled_s", "built_s", "app_running_line_s")
            if any(s[name] is not None for s in samples)}


# --- from a fresh clone ----------------------------------------------------------------------

def _clean_env(port: int) -> dict[str, str]:
    """The environment of a user's shell: none of our venv, none of our settings."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PWPUSH_", "PWP__", "REFLEX_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin and ".tools/node_modules" not in p)
    # Not 3000: it may be taken on this machine; Reflex reads its ports from these.
    env["REFLEX_FRONTEND_PORT"] = env["REFLEX_BACKEND_PORT"] = str(port)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fresh_clone_once(log: Path) -> dict:
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    parent = Path(tempfile.mkdtemp(prefix="pwpush-bench-clone-"))
    clone = parent / "pwpush"
    port = free_port()
    process = None
    try:
        started = time.perf_counter()
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
        cloned_s = time.perf_counter() - started
        process = subprocess.Popen(["make", "run"], cwd=clone, env=_clean_env(port), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        output = TimedOutput(process, started, log)
        served = wait_until_served(f"http://127.0.0.1:{port}", process, started, FRESH_TIMEOUT_S, output)
        # make echoes each recipe line as it starts it: the phases' boundaries.
        bun_at = output.first(r"^npm install .*bun")
        migrate_at = output.first(r"^reflex db migrate")
        run_at = output.first(r"^reflex run --env prod")
        return {
            "served_s": served["served_s"],
            "clone_s": cloned_s,
            "python_install_s": (bun_at or migrate_at) - cloned_s if migrate_at else None,
            "bun_install_s": migrate_at - bun_at if bun_at and migrate_at else None,
            "migrate_s": run_at - migrate_at if run_at and migrate_at else None,
            "run_to_first_page_s": served["served_s"] - run_at if run_at else None,
            "compiled_after_run_s": _after(output.first(r"^Compiling:"), run_at),
            "built_after_run_s": _after(output.first(r"^Creating Production Build"), run_at),
            "app_running_line_after_run_s": _after(output.first(r"App running at"), run_at),
        }
    finally:
        if process is not None:
            stop_group(process)
        shutil.rmtree(parent, ignore_errors=True)


def _after(at: float | None, start: float | None) -> float | None:
    return at - start if at is not None and start is not None else None


def fresh_clone(runs: int) -> dict:
    log_dir = Path(tempfile.mkdtemp(prefix="pwpush-bench-clone-logs-"))
    samples = []
    try:
        for index in range(runs):
            samples.append(fresh_clone_once(log_dir / f"run-{index}.log"))
    except Exception:
        print(f"fresh clone failed; logs kept in {log_dir}")
        raise
    shutil.rmtree(log_dir, ignore_errors=True)
    return {name: spread([s[name] for s in samples if s[name] is not None])
            for name in samples[0] if any(s[name] is not None for s in samples)}


def _folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20 if folder.is_dir() else 0.0


def _caches_note() -> str:
    """Where a fresh clone's packages come from on this machine (it changes the figure a lot)."""
    notes = []
    config = subprocess.run(["python3", "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    sources = [line.split("=", 1)[1].strip("'") for line in config.splitlines()
               if re.search(r"\.(find-links|index-url|extra-index-url)=", line)]
    if sources:
        notes.append("pip sources besides PyPI: " + ", ".join(sorted(set(sources))))
    cache = subprocess.run(["python3", "-m", "pip", "cache", "dir"], capture_output=True, text=True).stdout.strip()
    if cache:
        notes.append(f"pip cache {_folder_mib(Path(cache)):.0f} MiB")
    notes.append(f"bun cache (~/.bun/install/cache) {_folder_mib(Path.home() / '.bun/install/cache'):.0f} MiB")
    notes.append(f"npm cache (~/.npm) {_folder_mib(Path.home() / '.npm'):.0f} MiB")
    return "; ".join(notes)


def run(runs: int = 3, fresh_runs: int = 2) -> dict:
    payload: dict = {"existing_build": existing_build(runs), "existing_build_runs": runs}
    if fresh_runs:
        payload["fresh_clone_caches"] = _caches_note()  # before the runs: as a user re-cloning finds them
        payload["fresh_clone"] = fresh_clone(fresh_runs)
        payload["fresh_clone_runs"] = fresh_runs
    save("startup", payload)
    return payload


PHASES = {
    "served_s": "run command -> page and backend served",
    "page_s": "  first `GET /` 200 with the page",
    "backend_s": "  first `GET /api/v2/version` 200",
    "compiled_s": "  Reflex has imported and compiled the pages (\"Compiling: 100%\")",
    "built_s": "  the production frontend build is done (\"Creating Production Build\")",
    "app_running_line_s": "  Reflex prints \"App running at\" (the backend starts)",
    "clone_s": "  git clone + checkout",
    "python_install_s": "  venv + `pip install -e .`",
    "bun_install_s": "  bun from the npm registry",
    "migrate_s": "  `reflex db migrate`",
    "run_to_first_page_s": "  `reflex run --env prod` -> first page (first build)",
    "compiled_after_run_s": "    of which: until the pages are compiled",
    "built_after_run_s": "    of which: until the frontend build is done (bun install + build)",
    "app_running_line_after_run_s": "    of which: until \"App running at\"",
}


def table(payload: dict) -> str:
    lines = ["| start | phase | seconds, median (min-max) | runs |", "|---|---|---|---|"]
    for label, key in (("existing build", "existing_build"), ("fresh clone, `make run`", "fresh_clone")):
        for name, values in payload.get(key, {}).items():
            lines.append(f"| {label} | {PHASES.get(name, name)} | {values['median']:.1f} "
                         f"({values['min']:.1f}-{values['max']:.1f}) | {values['runs']} |")
    if "fresh_clone_caches" in payload:
        lines += ["", f"Fresh clone, package sources and caches on this machine: {payload['fresh_clone_caches']}."]
    return "\n".join(lines)
