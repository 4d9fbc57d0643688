"""Start-up and restarts: how long until the server answers, and what a restart costs.

    .venv/bin/python -m bench startup [--runs 10] [--fresh-runs 2] [--quick]

- **before** (issue 23): `reflex run --env prod` in a private copy of the app that has been
  built and run once before (a restart after a reboot or a settings change). Reflex
  compiles the pages and rebuilds the frontend at every start.
- **after**: `python -m pwpush_app serve` with its frontend build already made (the same
  restart). Its keeper binds the port at once; a generation migrates, finds the build,
  imports the app and forks its worker. Phases from the generation's own log line.
- **restarts** under steady traffic (tests/traffic.py: 2 kept-alive and 2 fresh-connection
  clients creating and revealing): a reload (SIGHUP) with one worker on SQLite and with
  three on PostgreSQL + Redis; a full restart on a socket held across it (systemd's socket
  activation); kill -9 of a worker, of the app's generation, of the whole server (started
  again at once, as systemd's Restart= does). Figures: requests failed, the longest wait of
  a request, and for kills the time from the kill to the first `/ping` answered.
- **fresh clone**: `git clone` of the committed HEAD, then the README's `make run` (venv,
  `pip install -e .`, bun from the npm registry, migrations, first build, serve).

"Served" means both: `GET /` answers 200 with the HTML page and the backend answers
(`GET /api/v2/version` 200), polled every 10 ms; "first answer" is the first `GET /ping`
200. The load average is recorded before each part: the machine is shared.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import ROOT, save, spread
from tests.servers import LiveServer, PostgresServer, RedisServer, SocketHolder, free_port
from tests.traffic import Traffic

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


def first_answer(url: str, process: subprocess.Popen, started: float, timeout: float) -> dict:
    """Seconds from `started` until the port accepts a connection and until `/ping` answers
    200 (a request sent while the server starts waits on the keeper's socket)."""
    host, port = "127.0.0.1", int(url.rsplit(":", 1)[1])
    connected = None
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode})")
        if connected is None:
            try:
                socket.create_connection((host, port), timeout=1).close()
                connected = time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
                continue
        try:
            if httpx.get(f"http://{host}:{port}/ping", timeout=timeout).status_code == 200:
                return {"port_open_s": connected, "first_answer_s": time.perf_counter() - started}
        except httpx.HTTPError:
            time.sleep(0.01)
    raise RuntimeError(f"no answer in {timeout:.0f} s")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# --- before: reflex run --env prod -------------------------------------------------------------

APP_FILES = ("pwpush_app", "alembic", "alembic.ini", "rxconfig.py", "reflex.lock", "assets")


def private_app_copy() -> Path:
    """The app's sources and its .web folder (node_modules included, so nothing is
    downloaded; no build): `reflex run` rebuilds .web in place and would disturb others."""
    target = Path(tempfile.mkdtemp(prefix="pwpush-bench-reflex-run-"))
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    shutil.copytree(ROOT / ".web", target / ".web", symlinks=True,
                    ignore=lambda folder, names: {"build", "builds", ".react-router"} & set(names)
                    if Path(folder) == ROOT / ".web" else set())
    return target


def before_reflex_run(runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pwpush-bench-startup-"))
    app = private_app_copy()
    server = LiveServer(work / "data", free_port())
    env = {**server.env, "REFLEX_USE_SYSTEM_BUN": "1",
           "PATH": os.pathsep.join([str(ROOT / ".tools/node_modules/.bin"), server.env["PATH"]])}
    command = [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod",
               "--frontend-port", str(server.port), "--backend-port", str(server.port)]
    samples = []
    try:
        server.data_dir.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "pwpush_app", "migrate"], cwd=app, env=env, check=True,
                       capture_output=True)
        for index in range(runs + 1):  # the first run builds .web once: not counted
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=app, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            output = TimedOutput(process, started, work / "server.log")
            try:
                served = wait_until_served(server.url, process, started, READY_TIMEOUT_S, output)
                served["compiled_s"] = output.first(r"^Compiling:")
                served["built_s"] = output.first(r"^Creating Production Build")
                served["app_running_line_s"] = output.first(r"App running at")
                if index:
                    samples.append(served)
            finally:
                stop_group(process)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(app, ignore_errors=True)
    return _spreads(samples)


# --- after: python -m pwpush_app serve -------------------------------------------------------------

GENERATION_LINE = re.compile(r"ready to fork its workers: (.*)$")


def after_serve(runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pwpush-bench-startup-"))
    server = LiveServer(work / "data", free_port())
    samples = []
    try:
        server.start()  # builds the frontend for this port once (not counted), migrates
        stop_group(server.process)
        for _ in range(runs):
            probe = cpu_probe()
            started = time.perf_counter()
            process = subprocess.Popen(server.command(), cwd=ROOT, env=server.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            output = TimedOutput(process, started, work / "server.log")
            try:
                sample = first_answer(server.url, process, started, READY_TIMEOUT_S)
                sample.update(wait_until_served(server.url, process, started, READY_TIMEOUT_S, output))
                sample["built_again"] = output.first(r"Building the frontend") is not None
                sample["cpu_probe_s"] = probe
                deadline = time.monotonic() + 5
                while output.first(GENERATION_LINE.pattern) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                for line in (line for _, line in output.lines if GENERATION_LINE.search(line)):
                    for step in GENERATION_LINE.search(line).group(1).split(", "):
                        name, seconds, _ = step.rsplit(" ", 2)
                        sample[f"generation_{name.replace(' ', '_')}_s"] = float(seconds)
                samples.append(sample)
            finally:
                stop_group(process)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    assert not any(sample.pop("built_again") for sample in samples), "a start rebuilt the frontend"
    return _spreads(samples)


def cpu_probe() -> float:
    """CPU seconds of a fixed piece of Python, taken before each start: these machines' CPU
    speed drifts (the same loop took 0.23-0.41 s minutes apart on 2026-12-03), which moves
    every start figure, the CPU ones too; a start is comparable with another at a like probe."""
    began = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round(time.process_time() - began, 4)


def _spreads(samples: list[dict]) -> dict:
    names = [name for name in samples[0] if any(s.get(name) is not None for s in samples)]
    return {name: spread([s[name] for s in samples if s.get(name) is not None]) for name in names}


# --- restarts under traffic ------------------------------------------------------------------------

def _under_traffic(server: LiveServer, act) -> dict:
    traffic = Traffic(server.url).start()
    time.sleep(1.5)
    began = time.monotonic()
    extra = act() or {}
    took = time.monotonic() - began
    time.sleep(1.5)
    traffic.stop()
    return {"failed_requests": traffic.failed, "failures": dict(traffic.failures),
            "longest_wait_s": traffic.longest_wait(began - 1), "action_s": took, "cycles": traffic.cycles, **extra}


def _kill_and_time(server: LiveServer, kind: str) -> dict:
    if kind == "app":
        server.standby()  # warm (a kill while it still starts waits for the rest of its start)
    (generation, workers), = server.generations().items()
    if kind == "worker":
        os.kill(workers[0], signal.SIGKILL)
    elif kind == "app":
        os.kill(generation, signal.SIGKILL)
    else:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(30)
    killed = time.perf_counter()
    if kind == "server":
        server.process = subprocess.Popen(server.command(), cwd=ROOT, env=server.env,
                                          stdout=open(server.log_path, "ab"), stderr=subprocess.STDOUT,
                                          start_new_session=True)
    answer = first_answer(server.url, server.process, killed, READY_TIMEOUT_S)
    server.wait_until_serving()
    return {"back_s": answer["first_answer_s"]}


def restarts(runs: int) -> dict:
    results: dict[str, list[dict]] = {}
    work = Path(tempfile.mkdtemp(prefix="pwpush-bench-restarts-"))
    postgres = redis = None
    try:
        one = LiveServer(work / "one" / "data", free_port())
        one.start()
        memory = _memory(one)
        for name, act in (("reload_1_worker_sqlite", one.reload),
                          *((f"kill_{kind}_1_worker_sqlite", lambda kind=kind: _kill_and_time(one, kind))
                            for kind in ("worker", "app", "server"))):
            results[name] = []
            for _ in range(runs):
                results[name].append({"load": _load(), **_under_traffic(one, act)})
                time.sleep(6)  # Granian treats two crashes of a worker within 5.5 s as a crash loop
        one.stop()

        held = LiveServer(work / "held" / "data", free_port())
        held.data_dir.mkdir(parents=True)
        holder = SocketHolder(held)
        holder.start_service()
        held.wait_until_serving()

        def restart_on_held_socket():
            held.process.send_signal(signal.SIGTERM)
            held.process.wait(60)
            holder.start_service()
            held.wait_until_serving()

        results["restart_socket_activation_1_worker_sqlite"] = [
            {"load": _load(), **_under_traffic(held, restart_on_held_socket)} for _ in range(runs)]
        held.stop()
        holder.close()

        postgres, redis = PostgresServer().start(), RedisServer().start()
        postgres.sql("CREATE DATABASE bench_reload")
        three = LiveServer(work / "three" / "data", free_port(), {
            "REFLEX_DB_URL": postgres.url("bench_reload"), "REFLEX_REDIS_URL": redis.url, "GRANIAN_WORKERS": "3"})
        three.start()
        results["reload_3_workers_postgresql_redis"] = [
            {"load": _load(), **_under_traffic(three, three.reload)} for _ in range(runs)]
        three.stop()
    finally:
        for service in (postgres, redis):
            if service:
                service.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"memory": memory, **{name: _restart_figures(samples) for name, samples in results.items()}}


def _memory(server: LiveServer) -> dict:
    """MiB of memory (PSS: shared pages split between their users; RSS) of each process of
    one idle server, the warm standby's being the standby's cost."""
    standby = server.standby()
    (generation, workers), = server.generations().items()
    figures = {}
    for name, pid in (("keeper", server.process.pid), ("serving_generation", generation), ("worker", workers[0]),
                      ("standby", standby)):
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        for field in ("Pss", "Rss"):
            kib = int(re.search(rf"^{field}:\s+(\d+)", rollup, re.M)[1])
            figures[f"{name}_{field.lower()}_mib"] = round(kib / 1024, 1)
    return figures


def _restart_figures(samples: list[dict]) -> dict:
    figures = {"runs": len(samples), "failed_requests": sum(s["failed_requests"] for s in samples),
               "failures": [s["failures"] for s in samples if s["failures"]],
               "cycles": sum(s["cycles"] for s in samples),
               "load": [s["load"] for s in samples]}
    for name in ("longest_wait_s", "action_s", "back_s"):
        values = [s[name] for s in samples if name in s]
        if values:
            figures[name] = spread(values)
    return figures


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
        migrate_at = output.first(r"-m pwpush_app migrate$")
        run_at = output.first(r"-m pwpush_app serve$")
        return {
            "served_s": served["served_s"],
            "clone_s": cloned_s,
            "python_install_s": (bun_at or migrate_at) - cloned_s if migrate_at else None,
            "bun_install_s": migrate_at - bun_at if bun_at and migrate_at else None,
            "migrate_s": run_at - migrate_at if run_at and migrate_at else None,
            "run_to_first_page_s": served["served_s"] - run_at if run_at else None,
            "built_after_run_s": _after(output.first(r"Frontend built in"), run_at),
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


def run(runs: int = 10, fresh_runs: int = 2, restart_runs: int = 3) -> dict:
    payload: dict = {}
    payload["load_before"] = _load()
    payload["after"] = after_serve(runs)
    payload["load_after_part"] = _load()
    payload["before"] = before_reflex_run(runs)
    payload["runs"] = runs
    if restart_runs:
        payload["restarts"] = restarts(restart_runs)
    if fresh_runs:
        payload["fresh_clone_caches"] = _caches_note()  # before the runs: as a user re-cloning finds them
        payload["fresh_clone"] = fresh_clone(fresh_runs)
        payload["fresh_clone_runs"] = fresh_runs
    save("startup", payload)
    return payload


PHASES = {
    "served_s": "run command -> page and backend served",
    "first_answer_s": "run command -> first answer (`GET /ping` 200)",
    "port_open_s": "  the port accepts connections",
    "page_s": "  first `GET /` 200 with the page",
    "backend_s": "  first `GET /api/v2/version` 200",
    "compiled_s": "  Reflex has imported and compiled the pages (\"Compiling: 100%\")",
    "built_s": "  the production frontend build is done (\"Creating Production Build\")",
    "app_running_line_s": "  Reflex prints \"App running at\" (the backend starts)",
    "generation_settings_s": "  generation: settings read (after its Python started)",
    "generation_migrations_s": "  generation: migrations checked (alembic_version read; Alembic only if behind)",
    "generation_frontend_build_s": "  generation: frontend build found (Reflex config, fingerprint)",
    "generation_app_imported_s": "  generation: app imported (Reflex, FastAPI, pages, states)",
    "generation_app_built_s": "  generation: ASGI app built (App.__call__) and warmed up (one `GET /ping`)",
    "generation_cpu_s": "  generation: CPU time of its whole start (Python's own start included; independent of the load, not of the CPU's speed)",
    "cpu_probe_s": "  the machine's speed before each start: CPU seconds of a fixed Python loop (`cpu_probe`)",
    "clone_s": "  git clone + checkout",
    "python_install_s": "  venv + `pip install -e .`",
    "bun_install_s": "  bun from the npm registry",
    "migrate_s": "  migrations",
    "run_to_first_page_s": "  `python -m pwpush_app serve` -> first page (first build)",
    "built_after_run_s": "    of which: until the frontend build is done (bun install + build)",
}

RESTARTS = {
    "reload_1_worker_sqlite": "reload (SIGHUP), 1 worker, SQLite",
    "reload_3_workers_postgresql_redis": "reload (SIGHUP), 3 workers, PostgreSQL + Redis",
    "restart_socket_activation_1_worker_sqlite": "full restart, socket held (systemd socket activation), 1 worker",
    "kill_worker_1_worker_sqlite": "kill -9 of the worker (Granian forks a new one)",
    "kill_app_1_worker_sqlite": "kill -9 of the app's generation (the warm standby takes over)",
    "kill_server_1_worker_sqlite": "kill -9 of everything, started again at once (no socket unit)",
}


def table(payload: dict) -> str:
    lines = ["| start | phase | seconds, median (min-max) | runs |", "|---|---|---|---|"]
    for label, key in (("before: `reflex run --env prod`", "before"), ("after: `python -m pwpush_app serve`", "after"),
                       ("fresh clone, `make run`", "fresh_clone")):
        for name, values in payload.get(key, {}).items():
            lines.append(f"| {label} | {PHASES.get(name, name)} | {values['median']:.2f} "
                         f"({values['min']:.2f}-{values['max']:.2f}) | {values['runs']} |")
    if "restarts" in payload:
        lines += ["", "| restart under traffic | failed requests | longest wait of a request, s: median (max) "
                      "| kill -> first answer, s: median (max) | runs | load average |",
                  "|---|---|---|---|---|---|"]
        for name, figures in payload["restarts"].items():
            if name == "memory":
                continue
            wait = figures.get("longest_wait_s")
            back = figures.get("back_s")
            lines.append(f"| {RESTARTS.get(name, name)} | {figures['failed_requests']} | "
                         f"{wait['median']:.2f} ({wait['max']:.2f}) | "
                         + (f"{back['median']:.2f} ({back['max']:.2f})" if back else "-")
                         + f" | {figures['runs']} | {', '.join(str(x) for x in figures['load'])} |")
    if "memory" in payload.get("restarts", {}):
        lines += ["", "Memory of an idle server, MiB (PSS, RSS): " + ", ".join(
            f"{name} {payload['restarts']['memory'][name + '_pss_mib']} ({payload['restarts']['memory'][name + '_rss_mib']})"
            for name in ("keeper", "serving_generation", "worker", "standby")) + "."]
    if "fresh_clone_caches" in payload:
        lines += ["", f"Fresh clone, package sources and caches on this machine: {payload['fresh_clone_caches']}."]
    return "\n".join(lines)
