"""The install is reproducible: every distribution in the environment the suite runs in is
one the lock files pin, at the pinned version, with hashes; the locks agree with the
`*.in` files they are resolved from and with each other."""

import re
from importlib import metadata
from pathlib import Path

import pytest

from orgtrail.project import CHECKOUT

# Lock files and the requirement files each is resolved from (`make lock`).
LOCKS = {
    CHECKOUT / "requirements.txt": CHECKOUT / "requirements.in",
    CHECKOUT / "requirements-mutation.txt": CHECKOUT / "requirements-mutation.in",
    CHECKOUT / "policies" / "requirements.txt": CHECKOUT / "policies" / "requirements.in",
    CHECKOUT / "tools" / "lock.txt": CHECKOUT / "tools" / "lock.in",
}
# What the environment holds that no lock can: the project itself, installed editable.
THE_PROJECT = "org-trail"

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def normalised(name: str) -> str:
    """PEP 503: names compare lower-case with runs of `-`, `_`, `.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalised name."""
    found = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            found[normalised(match[1])] = match[2]
    return found


def entries(lock: Path) -> list[tuple[str, list[str]]]:
    """Each pinned requirement of a lock with the hash options that follow it."""
    result: list[tuple[str, list[str]]] = []
    for line in lock.read_text().splitlines():
        if PIN.match(line):
            result.append((line.split(" ")[0], []))
        elif line.strip().startswith("--hash=") and result:
            result[-1][1].append(line.strip())
    return result


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(CHECKOUT)))
def test_every_locked_distribution_carries_hashes(lock):
    locked = entries(lock)
    assert locked, f"{lock} pins nothing"
    missing = [requirement for requirement, hashes in locked if not hashes]
    assert not missing, f"pinned without a hash in {lock.name}: {missing}"
    assert all(h.startswith("--hash=sha256:") for _, hashes in locked for h in hashes)


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(CHECKOUT)))
def test_the_lock_holds_what_its_input_pins(lock):
    """A pin changed in a `.in` file without `make lock` leaves the lock behind."""
    wanted, locked = pins(LOCKS[lock]), pins(lock)
    stale = {name: (version, locked.get(name)) for name, version in wanted.items()}
    stale = {name: pair for name, pair in stale.items() if pair[0] != pair[1]}
    assert not stale, f"{lock.name} is stale, run `make lock` ({{name: (asked, locked)}}: {stale})"


def test_every_installed_distribution_is_locked_at_its_version():
    locked: dict[str, str] = {}
    for lock in (CHECKOUT / "requirements.txt", CHECKOUT / "requirements-mutation.txt"):
        locked |= pins(lock)
    installed = {normalised(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop(THE_PROJECT, None)
    unlocked = {name: version for name, version in installed.items() if name not in locked}
    assert not unlocked, f"installed but in no lock: {unlocked}"
    other = {n: (v, locked[n]) for n, v in installed.items() if locked[n] != v}
    assert not other, (
        f"installed at another version than locked ({{name: (installed, locked)}}): {other}"
    )


def test_the_pack_runs_the_versions_the_suite_tests():
    project, pack = (
        pins(CHECKOUT / "requirements.txt"),
        pins(CHECKOUT / "policies" / "requirements.txt"),
    )
    differ = {n: (v, project[n]) for n, v in pack.items() if n in project and project[n] != v}
    assert not differ, f"the pack's lock differs from the project's: {differ}"
    assert {"pulumi", "pulumi-policy", "grpcio", "protobuf"} <= pack.keys()
