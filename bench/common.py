"""What every benchmark shares: servers, the peer, wrk, and how results are written."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import ROOT, LiveServer, RedisServer, free_port

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PEER_VENV = ROOT / ".venv-bench"


def machine() -> dict:
    cpu = "unknown"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}


def spread(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "runs": len(values)}


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


class BenchServer(LiveServer):
    """A LiveServer whose temporary data folder goes away with it."""

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_ours(**env: str) -> BenchServer:
    """Our production server (`python -m pwpush_app serve`), rate limits lifted for load."""
    data = Path(tempfile.mkdtemp(prefix="pwpush-bench-")) / "data"
    server = BenchServer(data, free_port(), {"PWP__THROTTLING__MINUTE": "1000000", **env})
    server.start()
    return server


def ensure_peer_venv() -> Path:
    """SnapPass and gunicorn in their own venv (their Flask must not meet our stack)."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "snappass==1.6.2", "gunicorn"], check=True)
    return PEER_VENV


class SnapPass:
    """SnapPass 1.6.2 under gunicorn with 2 workers on 127.0.0.1, backed by a real Redis."""

    def __init__(self, workers: int = 2):
        self.redis = RedisServer().start()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        venv = ensure_peer_venv()
        env = {**os.environ, "REDIS_URL": self.redis.url, "NO_SSL": "True", "SECRET_KEY": os.urandom(16).hex()}
        self.process = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "snappass.main:app"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        if not answers(self.url + "/", tries=100):
            raise RuntimeError("SnapPass did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, 15)
        self.process.wait(20)
        self.redis.stop()


def answers(url: str, tries: int) -> bool:
    """Poll `url` (every 0.2 s, `tries` times) until it answers 200."""
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def wrk(script: str, url: str, connections: int, seconds: int, *script_args: str) -> dict:
    """Run wrk with one connection per thread; return the RESULT line of the script."""
    out = subprocess.run(
        ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(BENCH / "wrk" / script), url, *(["--", *script_args] if script_args else [])],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    result = json.loads(match.group(1))
    result["cycles_per_s"] = result["cycles"] / result["duration_s"]
    return result


def rss_kib(pids: list[int]) -> int:
    """Resident memory of processes and all their children, in KiB."""
    total = 0
    for pid in _with_children(pids):
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by processes and all their children."""
    ticks = 0
    for pid in _with_children(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def _with_children(pids: list[int]) -> set[int]:
    found = set(pids)
    frontier = list(pids)
    while frontier:
        pid = frontier.pop()
        try:
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                if int(child) not in found:
                    found.add(int(child))
                    frontier.append(int(child))
        except OSError:
            pass
    return found
