"""Settings of the scaled-out shape refuse combinations that would fail later."""

from __future__ import annotations

import pytest

from pwpush_app.settings import SettingsError, load_settings
from tests.servers import make_env


@pytest.mark.parametrize("env, message", [
    ({"PWPUSH_FILES_STORAGE": "s3"}, "needs a bucket: PWPUSH_S3_BUCKET"),
    ({"PWPUSH_FILES_STORAGE": "ftp"}, "must be local or s3"),
    ({"PWPUSH_FILES_STORAGE": "s3", "PWPUSH_S3_BUCKET": "b", "PWPUSH_S3_ENDPOINT_URL": "s3.example.com"}, "PWPUSH_S3_ENDPOINT_URL"),
])
def test_bad_storage_settings_stop_the_start(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(make_env(tmp_path, **env))


def test_several_workers_without_redis_are_refused(tmp_path):
    with pytest.raises(SettingsError, match="GRANIAN_WORKERS=3 needs REFLEX_REDIS_URL"):
        load_settings(make_env(tmp_path, GRANIAN_WORKERS="3"))
    assert load_settings(make_env(tmp_path, GRANIAN_WORKERS="3", REFLEX_REDIS_URL="redis://127.0.0.1:6379/0"))
    assert load_settings(make_env(tmp_path, GRANIAN_WORKERS="1"))
