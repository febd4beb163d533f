import pytest

from orgtrail.simulate import RecordingMonitor
from tests.support.stacks import run_management, run_security


@pytest.fixture(scope="session")
def security():
    """The security stack with the default test config."""
    return run_security()


@pytest.fixture(scope="session")
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
