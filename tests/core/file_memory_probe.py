"""Stream a big file through a file push in a fresh process; report peak memory and speed.

Run by tests/core/test_file_memory.py (a fresh process, so earlier tests' allocations do not
hide the peak): ``python -m tests.core.file_memory_probe <data dir> <MiB>``.  Prints JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path

MIB = 1024 * 1024
PIECE = 64 * 1024  # what Starlette's request stream hands over


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def generated(size_mib: int):
    """Deterministic, incompressible-enough data made on the fly, 64 KiB at a time."""
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    for i in range(size_mib):
        chunk = i.to_bytes(8, "big") + block[8:]
        for start in range(0, MIB, PIECE):
            yield chunk[start : start + PIECE]


async def generated_async(size_mib: int):
    for piece in generated(size_mib):
        yield piece


def main(data_dir: Path, size_mib: int) -> dict:
    from pwpush_app.core.create import NewPush
    from pwpush_app.core.db import migrate
    from pwpush_app.core.file_downloads import open_file_download
    from pwpush_app.core.file_uploads import IncomingFile, create_file_push, create_file_push_async
    from pwpush_app.core.reveal import reveal_push
    from pwpush_app.core.runtime import open_runtime
    from pwpush_app.master_key import generate_master_key_text
    from pwpush_app.settings import load_settings
    from tests.core.files_support import RECIPIENT, signed_in_sender

    data_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{data_dir / 'pwpush.db'}"
    migrate(db_url)
    settings = load_settings({
        "PWPUSH_DATA_DIR": str(data_dir),
        "REFLEX_DB_URL": db_url,
        "PWPUSH_MASTER_KEY": generate_master_key_text(),
        "PWP__THROTTLING__MINUTE": "1000000",
        "PWPUSH_FILES_MAX_BYTES": str((size_mib + 1) * MIB),
    })
    runtime = open_runtime(settings)
    sender = signed_in_sender(runtime)
    expected = hashlib.sha256()
    for piece in generated(size_mib):
        expected.update(piece)

    def download_all(token: str) -> tuple[str, float]:
        grant = reveal_push(runtime, token, RECIPIENT).downloads.grant
        started = time.perf_counter()
        opened = open_file_download(runtime, grant, 0, RECIPIENT)
        digest = hashlib.sha256()
        for chunk in opened.chunks:
            digest.update(chunk)
        return digest.hexdigest(), time.perf_counter() - started

    # Warm up every code path (imports, pools, caches) with a small push.
    warm = create_file_push(runtime, NewPush(kind="file"), [IncomingFile("w", "", generated(2))], sender)
    download_all(warm.url_token)

    reset_peak()
    baseline_kib = status_kib("VmHWM")

    started = time.perf_counter()
    created = create_file_push(runtime, NewPush(kind="file"), [IncomingFile("big.bin", "", generated(size_mib))], sender)
    upload_seconds = time.perf_counter() - started
    digest, download_seconds = download_all(created.url_token)

    started = time.perf_counter()
    created_async = asyncio.run(
        create_file_push_async(runtime, NewPush(kind="file"), [IncomingFile("big.bin", "", generated_async(size_mib))], sender)
    )
    async_upload_seconds = time.perf_counter() - started
    digest_async, _ = download_all(created_async.url_token)

    peak_kib = status_kib("VmHWM")
    return {
        "size_mib": size_mib,
        "hash_matches": digest == expected.hexdigest() and digest_async == expected.hexdigest(),
        "rss_growth_mib": round((peak_kib - baseline_kib) / 1024, 1),
        "baseline_rss_mib": round(baseline_kib / 1024, 1),
        "upload_mib_s": round(size_mib / upload_seconds, 1),
        "async_upload_mib_s": round(size_mib / async_upload_seconds, 1),
        "download_mib_s": round(size_mib / download_seconds, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))
