"""Hostile input against the whole JSON API, in-process (ASGI) for speed:

- schemathesis walks /api/openapi.json: the examples, coverage and fuzzing phases with
  positive and negative data, and the stateful phase (create, then show, preview, audit,
  expire the created push through the OpenAPI links); zero 5xx;
- 10,000 random and malformed link tokens all get the one not-found answer.
"""

from __future__ import annotations

import atexit
import random
import shutil
import string
import tempfile
import urllib.parse
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from pwpush_app.api.app import build_api
from pwpush_app.core.accounts import issue_api_token
from pwpush_app.core.db import migrate
from pwpush_app.core.runtime import open_runtime
from pwpush_app.settings import load_settings
from tests.api.conftest import asgi_client
from tests.servers import make_env

# schemathesis's generated tests run in one process (under pytest-xdist they would not all run).
pytestmark = pytest.mark.alone

EXAMPLES_PER_OPERATION = 40
STATEFUL_SCENARIOS = 40
MIN_EXAMPLES = 1_000

# One runtime for the whole module: schemathesis builds its tests when the module is imported.
_folder = Path(tempfile.mkdtemp(prefix="pwpush-hostile-"))
atexit.register(shutil.rmtree, _folder, True)  # also when the tests below are deselected
_settings = load_settings(make_env(_folder / "data"))
_settings.data_dir.mkdir(parents=True)
migrate(_settings.db_url)
RUNTIME = open_runtime(_settings)
_user, _token = issue_api_token(RUNTIME, "fuzz-owner@example.com")
OWNER = {"Authorization": f"Bearer {_token}"}
schema = schemathesis.openapi.from_asgi("/api/openapi.json", build_api(lambda: RUNTIME))

calls: list[int] = []  # one entry per request sent, across all phases


@pytest.fixture(scope="module", autouse=True)
def _clean_up():
    yield
    RUNTIME.engine.dispose()


def _headers_for(case) -> dict:
    # Half the calls as a signed-in owner, half anonymously: both paths get fuzzed.
    return OWNER if hash(repr(case.path_parameters) + repr(case.query)) % 2 else {}


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_fuzzed_without_a_server_error(case):
    response = case.call(headers=_headers_for(case))
    calls.append(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])


class Workflow(schema.as_state_machine()):
    def get_call_kwargs(self, case):
        return {"headers": _headers_for(case)}

    def after_call(self, response, case):
        calls.append(response.status_code)

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(response, checks=[not_a_server_error])


def test_stateful_sequences_without_a_server_error():
    Workflow.run(settings=settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=8, deadline=None,
                                   suppress_health_check=list(HealthCheck)))


FUZZING_TESTS = ("test_every_operation_fuzzed_without_a_server_error", "test_stateful_sequences_without_a_server_error")


def test_at_least_a_thousand_examples_were_fuzzed(request):
    fuzzed_here = [item for item in request.session.items if item.module is request.module
                   and item.originalname in FUZZING_TESTS]
    if not fuzzed_here:
        pytest.skip("run with the fuzzing tests above")
    # They ran in this session: a run that sent (almost) nothing is a failure, not a skip.
    print(f"schemathesis: {len(calls)} requests, statuses {sorted(set(calls))}")
    assert len(calls) >= MIN_EXAMPLES
    assert max(calls) < 500


# --- malformed tokens ----------------------------------------------------------------------------

SQLISH = ["' OR '1'='1", "1; DROP TABLE push; --", "\" OR \"\"=\"", "x' UNION SELECT payload_sealed FROM push --",
          "%' AND 1=0 --", "') OR ('a'='a", "1)) OR sleep(5)#", "admin'--", "\\x00' OR 1=1"]
TRAVERSAL = ["../../etc/passwd", "..\\..\\windows\\win.ini", "....//....//etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
             "..%252f..%252fetc", "/etc/passwd", "..", ".", "./.json", "~root"]
JUNK_PIECES = ["%00", "%0a", "%0d%0a", "%ff", "%c0%ae", "%u002e", "%%", "%2F", "%3Cscript%3E", "\x00", "\r\n", "\t",
               "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x}", "?", "#", "&", ";", " ", "+", "="]
ROUTE_WORDS = {"active", "expired"}  # real routes beside /pushes/{token}


def malformed_tokens(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    urlsafe = string.ascii_letters + string.digits + "-_"
    tokens: list[str] = [*SQLISH, *TRAVERSAL]
    while len(tokens) < count:
        kind = len(tokens) % 5
        if kind == 0:  # well-formed-looking tokens of every length (these reach the database lookup)
            token = "".join(rng.choice(urlsafe) for _ in range(rng.choice([1, 15, 16, 21, 22, 23, 43, 64, 65, 300])))
        elif kind == 1:  # unicode: accents, CJK, emoji, right-to-left, combining marks, lone-ish oddities
            token = "".join(chr(rng.choice([rng.randint(0x80, 0x2FF), rng.randint(0x4E00, 0x4FFF),
                                             rng.randint(0x1F600, 0x1F64F), 0x202E, 0x0301, 0xFEFF, 0xFFFD]))
                            for _ in range(rng.randint(1, 40)))
        elif kind == 2:  # url-encoded junk, sometimes around a real-looking token
            token = "".join(rng.choice(JUNK_PIECES + [rng.choice(urlsafe)]) for _ in range(rng.randint(1, 20)))
        elif kind == 3:  # SQL-ish and traversal, mutated
            token = rng.choice(SQLISH + TRAVERSAL) + "".join(rng.choice(urlsafe) for _ in range(rng.randint(0, 22)))
        else:  # printable ASCII soup of random length
            token = "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 120)))
        if token.strip("/") and token not in ROUTE_WORDS:
            tokens.append(token)
    return tokens[:count]


@pytest.fixture(scope="module")
def token_api():
    client = asgi_client(RUNTIME)
    yield client
    client.close()


@pytest.mark.parametrize("count", [2_000, pytest.param(10_000, marks=pytest.mark.soak)])
def test_malformed_tokens_all_get_the_same_not_found(token_api, count):
    tokens = malformed_tokens(count)
    assert len(set(tokens)) > count * 0.9
    answers: dict[tuple[int, str], int] = {}
    for i, token in enumerate(tokens):
        # Every character escaped, dots too (so ".." reaches the server, not httpx's path normalizer).
        quoted = urllib.parse.quote(token, safe="").replace(".", "%2E")
        # Each token on one of the three endpoints in turn, and every 10th on all three.
        paths = [f"/api/v2/pushes/{quoted}", f"/p/{quoted}.json", f"/api/v2/pushes/{quoted}/preview"]
        for path in paths if i % 10 == 0 else [paths[i % 3]]:
            response = token_api.get(path)
            key = (response.status_code, response.text)
            answers[key] = answers.get(key, 0) + 1
            if key != (404, '{"error":"not-found"}'):
                pytest.fail(f"{token!r} on {path}: {response.status_code} {response.text[:200]}")
    assert list(answers) == [(404, '{"error":"not-found"}')]
    print(f"malformed tokens: {len(tokens)} tokens, {sum(answers.values())} requests, one answer: {list(answers)}")
