"""The scheduled verify workflow: it runs on a schedule with the least permissions, fails the run
and tells the team on any failure, and its jq program turns real verify output (a failed
check, an error) into the text a person reads."""

import re

import jq
import yaml

from orgtrail.__main__ import main
from orgtrail.project import CHECKOUT
from tests.support.contract import conforming
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME
from tests.test_verify import ACTIVE, deliver_for

WORKFLOW = CHECKOUT / ".github" / "workflows" / "verify.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> dict[str, dict]:
    (job,) = workflow()["jobs"].values()
    return {step.get("name", step.get("uses", "")): step for step in job["steps"]}


def report_program() -> str:
    script = steps()["Verify the live organisation"]["run"]
    return re.search(r"jq -r '(.*?)' verify\.json", script, re.S).group(1)


def test_it_runs_every_day_and_by_hand_with_the_least_permissions():
    document = workflow()
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]  # daily
    assert document["permissions"] == {}
    (job,) = document["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}


def test_a_failure_fails_the_run_and_tells_the_team():
    found = steps()
    verify = found["Verify the live organisation"]["run"]
    assert "--json > verify.json" in verify and 'echo "code=$code" >> "$GITHUB_OUTPUT"' in verify
    assert "--stack-config Pulumi.management.yaml --stack-config Pulumi.security.yaml" in verify
    for name in ("Tell the team", "Fail the run"):
        assert found[name]["if"] == "steps.verify.outputs.code != '0'"
    told = found["Tell the team"]["run"]
    assert "gh issue create" in told and "gh issue comment" in told
    assert 'aws sns publish --topic-arn "$ALARM_TOPIC_ARN"' in told
    assert found["Fail the run"]["run"].rstrip().endswith("exit 1")


def test_the_report_lists_every_failed_check_of_real_output(shared_org, capsys):
    deliver_for(shared_org, ACTIVE)
    argv = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME, "--json"]
    assert main([*argv, "--regions", "eu-west-1"]) == 1  # nothing delivered there
    document = conforming("verify", capsys.readouterr().out)
    report = jq.compile(report_program()).input_value(document).first()
    failed = [c for c in document["checks"] if not c["ok"]]
    total = len(document["checks"])
    assert report.splitlines()[0] == f"{len(failed)} of {total} checks failed:"
    assert report.splitlines()[2:] == [f"- `{c['id']}` {c['name']}: {c['detail']}" for c in failed]


def test_the_report_says_why_verify_could_not_run(shared_org, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
    argv = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME, "--json"]
    assert main(argv) == 2
    document = conforming("error", capsys.readouterr().out)
    report = jq.compile(report_program()).input_value(document).first()
    assert report == (
        f"orgtrail verify could not run: {document['error']['code']}: {document['error']['message']}"
    )
