"""`pip install .` gives a working `orgtrail` anywhere: the wheel is built from the project's
own pyproject.toml, installed away from the checkout, and its console script run from a
directory that is not the checkout."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import orgtrail
from orgtrail.analysis.detections import detections
from orgtrail.project import CHECKOUT
from tests.support.cloudtrail_events import Generator, corpus, write_logs


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel installed into its own directory; the environment to run it with."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # built from a copy: setuptools writes build/ beside the source
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(CHECKOUT / name, source / name)
    shutil.copytree(
        CHECKOUT / "orgtrail", source / "orgtrail", ignore=shutil.ignore_patterns("__pycache__")
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "dist").glob("org_trail-*.whl")
    site = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    return {"script": site / "bin" / "orgtrail", "site": site, "cwd": elsewhere, "env": env}


def run(installed: dict, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(installed["script"]), *argv],
        cwd=installed["cwd"],
        env=installed["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_package_is_the_one_that_runs(installed):
    loaded = subprocess.run(
        [sys.executable, "-c", "import orgtrail; print(orgtrail.__file__)"],
        cwd=installed["cwd"],
        env=installed["env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(loaded).is_relative_to(installed["site"])
    done = run(installed, "--version")
    assert (done.returncode, done.stdout) == (0, f"orgtrail {orgtrail.__version__}\n")


def test_the_detections_are_installed_with_it_and_run_on_logs(installed, tmp_path):
    listed = run(installed, "query", "--list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(detections())
    planted = corpus(benign=50)
    write_logs(tmp_path, planted.events)
    found = run(installed, "query", "root-account-usage", "--logs", str(tmp_path), "--json")
    assert found.returncode == 1, found.stderr
    rows = json.loads(found.stdout)["detections"]["root-account-usage"]
    assert {row["eventid"] for row in rows} == planted.planted["root-account-usage"]


def test_plan_needs_the_project_and_finds_it_with_cwd(installed):
    refused = run(installed, "plan", "--stack", "security", "--no-policy")
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        f"error: no Pulumi.yaml found searching upwards from {installed['cwd']}"
    )
    planned = run(
        installed, "plan", "-C", str(CHECKOUT), "--stack", "security", "--no-policy", "--json"
    )
    assert planned.returncode == 0, planned.stderr
    document = json.loads(planned.stdout)
    assert document["schemaVersion"] == 1
    assert [stack["stack"] for stack in document["stacks"]] == ["security"]


def test_the_price_table_is_installed_with_it(installed, tmp_path):
    write_logs(tmp_path, corpus(benign=50).events)
    priced = run(installed, "cost", "--logs", str(tmp_path), "--offline", "--json")
    assert priced.returncode == 1, priced.stderr  # no stack file: the extra copies unmeasured
    document = json.loads(priced.stdout)
    assert document["prices"]["date"] == "2026-12-01"
    assert document["window"]["events"] == 50 + sum(
        len(makers) for makers in Generator.PLANTED.values()
    )
