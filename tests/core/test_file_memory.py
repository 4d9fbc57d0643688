"""A 200 MiB file streams through create and download without growing memory by its size."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from tests.conftest import ARTIFACTS, ROOT

SIZE_MIB = 200
MAX_GROWTH_MIB = 100


def test_a_200_mib_file_streams_in_bounded_memory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tests.core.file_memory_probe", str(tmp_path / "data"), str(SIZE_MIB)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "file-push-200mib.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n200 MiB file push: {figures}")
    assert figures["hash_matches"]
    assert figures["rss_growth_mib"] < MAX_GROWTH_MIB, figures
    # The plaintext never reached the data folder: every file there is ciphertext.
    canary = hashlib.sha256(b"seed").digest() * 2  # repeats all through the generated data
    scanned = 0
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            with open(path, "rb") as stored:
                while piece := stored.read(8 * 1024 * 1024):
                    assert canary not in piece, path
                    scanned += len(piece)
    assert scanned > 2 * SIZE_MIB * 1024 * 1024  # both big pushes' blobs were there to scan
