"""Where file contents live (local files or S3): our names (PWPUSH_FILES_STORAGE, PWPUSH_S3_*)
or Password Pusher's (PWP__FILES__STORAGE, PWP__FILES__S3__*).  Read by settings.py's loader,
through its reader; imports nothing of ours but the settings' own helpers."""

from __future__ import annotations

from pwpush_app.settings_values import Reader

# Password Pusher's PWP__FILES__STORAGE values; google and microsoft have no store here.
_STORAGE_NAMES = {"local": "local", "s3": "s3", "amazon": "s3", "minio": "s3"}


def read_file_storage(r: Reader) -> tuple[str, dict]:
    """Where file contents live, under our names (PWPUSH_FILES_STORAGE, PWPUSH_S3_*) or
    Password Pusher's (PWP__FILES__STORAGE, PWP__FILES__S3__*); one set, not both."""
    theirs = r.is_set("PWP__FILES__STORAGE")
    if theirs and r.is_set("PWPUSH_FILES_STORAGE"):
        r.errors.append("PWPUSH_FILES_STORAGE and PWP__FILES__STORAGE say the same thing: set one of them")
    name = "PWP__FILES__STORAGE" if theirs else "PWPUSH_FILES_STORAGE"
    raw = (r.str("PWP__FILES__STORAGE", None) or r.str("PWPUSH_FILES_STORAGE", "local") or "local").strip().lower()
    storage = _STORAGE_NAMES.get(raw) if theirs else {"local": "local", "s3": "s3"}.get(raw)
    if storage is None:
        choices = "local, amazon or minio (S3-compatible)" if theirs else "local or s3"
        r.errors.append(f"{name}={raw!r} must be {choices}")
        storage = "local"
    s3 = {
        "bucket": r.str("PWP__FILES__S3__BUCKET", None) or r.str("PWPUSH_S3_BUCKET", None),
        "endpoint": r.str("PWP__FILES__S3__ENDPOINT", None) or r.str("PWPUSH_S3_ENDPOINT_URL", None),
        "region": r.str("PWP__FILES__S3__REGION", None) or r.str("PWPUSH_S3_REGION", None),
        "prefix": r.str("PWPUSH_S3_PREFIX", "") or "",
        "access_key_id": r.str("PWP__FILES__S3__ACCESS_KEY_ID", None),
        "secret_access_key": r.str("PWP__FILES__S3__SECRET_ACCESS_KEY", None),
    }
    if storage == "s3" and not s3["bucket"]:
        r.errors.append(f"{name}={raw} needs a bucket: PWPUSH_S3_BUCKET (or PWP__FILES__S3__BUCKET)")
    if bool(s3["access_key_id"]) != bool(s3["secret_access_key"]):
        r.errors.append("PWP__FILES__S3__ACCESS_KEY_ID and PWP__FILES__S3__SECRET_ACCESS_KEY go together: set both")
    return storage, s3
