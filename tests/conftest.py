import os
import time

import pytest

from orgtrail.offline.simulate import RecordingMonitor
from tests.support.moto_org import MotoServer, borrowed_server, seed
from tests.support.proxy import RewritingProxy
from tests.support.scopes import shared
from tests.support.stacks import run_management, run_security


@pytest.fixture(scope=shared("session"))
def security():
    """The security stack with the default test config."""
    return run_security()


@pytest.fixture(scope=shared("session"))
def management(security):
    """The management stack reading the default security stack's outputs."""
    return run_management(security_exports=security.exports)


@pytest.fixture
def registrations(monkeypatch):
    """Types of the resources a simulation sends to the engine (the root stack aside)."""
    seen: list[str] = []
    register = RecordingMonitor.RegisterResource

    def spy(self, request):
        if request.type != "pulumi:pulumi:Stack":
            seen.append(request.type)
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    return seen


@pytest.fixture(scope="session")
def moto_server():
    """moto_server on a free loopback port for the whole run; stopped at the end. Under
    `make mutation`, one of the servers the tool runs for its workers instead."""
    running = os.environ.get("ORGTRAIL_MOTO_SERVERS")
    if running:
        with borrowed_server(running.split(",")) as server:
            yield server
        return
    server = MotoServer()
    yield server
    server.stop()


def _seeded(moto_server, monkeypatch):
    seeded = seed(moto_server)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    for name, value in seeded.environment.items():
        monkeypatch.setenv(name, value)
    return seeded


@pytest.fixture
def org(moto_server, monkeypatch):
    """A freshly seeded organisation, for a test that changes it; the environment holds its admin's credentials."""
    return _seeded(moto_server, monkeypatch)


@pytest.fixture(scope="module")
def shared_org(moto_server):
    """One seeded organisation for a module of tests that only read it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _seeded(moto_server, monkeypatch)


@pytest.fixture
def proxy(moto_server, monkeypatch):
    """AWS answers moto cannot give: the CLI under test talks to moto_server through a
    rewriting loopback proxy (the seeding helpers still talk to moto_server directly).
    Request it after the organisation fixture, whose environment it overrides."""
    rewriting = RewritingProxy(moto_server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", rewriting.url)
    yield rewriting
    rewriting.stop()


@pytest.fixture
def far_ahead_of_utc():
    """The local time zone 14 h ahead of UTC (POSIX TZ: the offset is written west-positive)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "KIR-14")
        time.tzset()
        yield
    time.tzset()
