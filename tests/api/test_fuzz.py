"""Fuzzing the create endpoints: random JSON and form bodies never produce a 5xx.

Hypothesis drives the bodies (bounded, a few seconds), on SQLite and PostgreSQL; schemathesis
walks /api/openapi.json in-process and checks every endpoint for server errors.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwpush_app.api.app import build_api
from pwpush_app.core.db import migrate
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.conftest import ENGINES, make_env

from .conftest import asgi_client

FIELDS = ["payload", "kind", "name", "note", "passphrase", "expire_after_views", "expire_after_days",
          "expire_after_duration", "expire_after_minutes", "deletable_by_viewer", "retrieval_step", "files", "zzz"]
ROOTS = {"/api/v2/pushes": "push", "/p.json": "password", "/r.json": "url", "/f.json": "file_push"}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False), st.text(max_size=40), st.sampled_from(["text", "url", "qr", "file", "https://e.x/",
                                                                      "1", "0", "true", "on", "", " 5 ", "-3"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=6)
push_objects = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
bodies = st.one_of(
    st.builds(lambda root, obj: {root: obj}, st.sampled_from(list(ROOTS.values())), push_objects),
    st.dictionaries(st.text(max_size=8), values, max_size=3),
    values,
)


def _runtime_in(folder: Path, db_url: str | None = None):
    config = load_settings(make_env(folder / "data", **({"REFLEX_DB_URL": db_url} if db_url else {})))
    config.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(config.db_url)
    return open_runtime(config)


@pytest.fixture(scope="module", params=ENGINES)
def fuzz_api(request):
    """On each engine: PostgreSQL refuses what SQLite takes (a NUL in a text value was a 500 there)."""
    db_url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        name = f"t_{os.urandom(6).hex()}"
        server.sql(f"CREATE DATABASE {name} TEMPLATE pwpush_template")
        db_url = server.url(name)
    with tempfile.TemporaryDirectory() as folder:
        client = asgi_client(_runtime_in(Path(folder), db_url))
        yield client
        client.close()


def _check(response):
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body["error"], str) and body["error"]
    else:
        assert response.status_code == 201 and body["url_token"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(path=st.sampled_from(list(ROOTS)), body=bodies)
def test_random_json_bodies_never_500(fuzz_api, path, body):
    _check(fuzz_api.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"}))


form_keys = st.one_of(
    st.builds(lambda root, field: f"{root}[{field}]", st.sampled_from(list(ROOTS.values())), st.sampled_from(FIELDS)),
    st.builds(lambda root: f"{root}[files][]", st.sampled_from(list(ROOTS.values()))),
    st.text(alphabet="ab[]_", max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(path=st.sampled_from(list(ROOTS)), pairs=st.lists(st.tuples(form_keys, st.text(max_size=30)), max_size=6),
       raw=st.binary(max_size=40))
def test_random_form_bodies_never_500(fuzz_api, path, pairs, raw):
    _check(fuzz_api.post(path, content=urllib.parse.urlencode(pairs).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"}))
    _check(fuzz_api.post(path, content=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}))
    _check(fuzz_api.post(path, content=raw, headers={"Content-Type": "application/json"}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(token=st.text(max_size=40), passphrase=st.text(max_size=20), page=st.text(max_size=6))
def test_random_tokens_and_parameters_never_500(fuzz_api, token, passphrase, page):
    quoted = urllib.parse.quote(token, safe="")
    for path in (f"/api/v2/pushes/{quoted}", f"/p/{quoted}.json", f"/api/v2/pushes/{quoted}/preview"):
        response = fuzz_api.get(path, params={"passphrase": passphrase, "page": page})
        assert response.status_code < 500, (path, response.text)
    response = fuzz_api.delete(f"/api/v2/pushes/{quoted}")
    assert response.status_code < 500


# A test dependency like any other (pyproject's test extra): missing, the module fails to
# import and says so, rather than skipping the hypothesis tests above with it.
import schemathesis  # noqa: E402

_folder = tempfile.mkdtemp(prefix="pwpush-schemathesis-")
_schema_app = build_api(lambda: _SCHEMA_RUNTIME)
_SCHEMA_RUNTIME = None
schema = schemathesis.openapi.from_asgi("/api/openapi.json", _schema_app)


@pytest.fixture(scope="module", autouse=False)
def schema_runtime():
    global _SCHEMA_RUNTIME
    _SCHEMA_RUNTIME = _runtime_in(Path(_folder))
    yield _SCHEMA_RUNTIME
    _SCHEMA_RUNTIME.engine.dispose()
    shutil.rmtree(_folder, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_schema_fuzzing_finds_no_server_error(case, schema_runtime):
    from schemathesis.checks import not_a_server_error

    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
