"""`orgtrail plan`: the offline plan of both stacks from their config files."""

import json
import shutil
from pathlib import Path

import pytest

from orgtrail.__main__ import main
from orgtrail.offline.plan import plan_stacks, property_lines
from orgtrail.offline.simulate import PROJECT_DIR
from tests.support.contract import conforming

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.security.yaml", "Pulumi.management.yaml", "__main__.py")


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's stack files, to edit; the code is the project's own."""
    for name in PROJECT_FILES:
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def run_plan(capsys, *argv: str) -> tuple[int, str]:
    code = main(["plan", *argv])
    return code, capsys.readouterr().out


def test_plan_json_lists_both_stacks_with_their_accounts(capsys):
    code, out = run_plan(capsys, "--json")
    assert code == 0
    document = conforming("plan", out)
    stacks = {s["stack"]: s for s in document["stacks"]}
    assert document["toCreate"]["security"]["aws:kms/key:Key"] == 1
    assert stacks["security"]["accountId"] == "222222222222"
    assert stacks["management"]["accountId"] == "111111111111"
    types = {r["type"] for r in stacks["management"]["resources"]}
    assert "aws:cloudtrail/trail:Trail" in types
    assert "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration" in types
    assert (
        stacks["management"]["outputs"]["trailArn"]
        == stacks["security"]["outputs"]["authorizedTrailArn"]
    )


def test_plan_json_shows_policies_as_documents(capsys):
    _, out = run_plan(capsys, "--json", "--stack", "security")
    (stack,) = json.loads(out)["stacks"]
    key = next(r for r in stack["resources"] if r["type"] == "aws:kms/key:Key")
    assert key["protect"] is True
    assert {s["Sid"] for s in key["inputs"]["policy"]["Statement"]} >= {
        "CloudTrailEncryptLogs",
        "AccountAdministration",
    }


def test_plan_json_carries_the_policy_packs_verdicts(capsys):
    _, out = run_plan(capsys, "--json")
    security, management = (s["policyVerdicts"] for s in conforming("plan", out)["stacks"])
    assert management == []
    ((note),) = security
    assert (note["policy"], note["level"]) == ("exemptions-applied", "advisory")
    assert "receives server access logs" in note["message"]


def test_plan_exits_1_when_the_pack_reports_a_mandatory_violation(tmp_path, capsys):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text(
        "from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy\n"
        "def no_trails(args, report):\n"
        "    if args.resource_type == 'aws:cloudtrail/trail:Trail':\n"
        "        report('no trails allowed here')\n"
        "PolicyPack('strict', [ResourceValidationPolicy('no-trails', 'No trails.', no_trails,"
        " EnforcementLevel.MANDATORY)])\n"
    )
    code, out = run_plan(capsys, "--stack", "management", "--pack-dir", str(tmp_path))
    assert code == 1
    assert "mandatory no-trails: No trails." in out
    assert "policy pack: 1 violations" in out


def test_plan_tree_shows_resources_properties_and_protection(capsys):
    code, out = run_plan(capsys, "--stack", "management")
    assert code == 0
    assert "stack management: account 111111111111, us-east-1" in out
    assert "isOrganizationTrail = true" in out
    assert "(protected)" in out
    assert "retained on delete" in out
    assert "policy pack: 0 violations" in out


def test_plan_text_does_not_depend_on_columns_and_ends_with_counts(capsys, monkeypatch):
    outputs = []
    for width in ("60", "250"):
        monkeypatch.setenv("COLUMNS", width)
        outputs.append(run_plan(capsys, "--stack", "management", "--no-policy")[1])
    assert outputs[0] == outputs[1]
    lines = outputs[0].splitlines()
    trail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
    assert any(trail in line for line in lines)  # whole, on one line
    plan = plan_stacks(PROJECT_DIR, ["management"])["management"]
    created = [
        r
        for r in plan.simulation.resources
        if r.custom and r.type != "pulumi:pulumi:StackReference"
    ]
    assert lines[-2] == "Resources:"
    assert lines[-1].startswith(f"    + {len(created)} to create in management: ")
    assert "1 aws:cloudtrail/trail:Trail" in lines[-1]


def test_plan_json_errors_are_json_and_the_message_goes_to_stderr(project, capsys):
    (project / "Pulumi.management.yaml").unlink()
    argv = ["plan", "--stack", "management", "--project-dir", str(project), "--json"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert (
        error["code"] == "StackConfigError" and "pulumi stack init management" in error["message"]
    )
    assert "pulumi stack init management" in captured.err


def test_plan_is_the_same_twice():
    first = plan_stacks(PROJECT_DIR, ["management"])["management"].simulation
    second = plan_stacks(PROJECT_DIR, ["management"])["management"].simulation
    assert [(r.urn, r.inputs) for r in first.resources] == [
        (r.urn, r.inputs) for r in second.resources
    ]


def test_plan_reports_every_bad_key_of_a_stack_file_and_exits_2(project, capsys):
    stack_file = project / "Pulumi.security.yaml"
    stack_file.write_text(
        stack_file.read_text()
        .replace("o-a1b2c3d4e5", "o-SHOUTING")
        .replace("days: 30\n", "days: -1\n")
    )
    code = main(["plan", "--stack", "security", "--project-dir", str(project)])
    out = capsys.readouterr().err
    assert code == 2
    assert "org-trail:organizationId" in out
    assert "org-trail:objectLock.days" in out


def test_plan_of_a_missing_stack_file_says_how_to_create_it(project, capsys):
    (project / "Pulumi.management.yaml").unlink()
    code = main(["plan", "--stack", "management", "--project-dir", str(project)])
    assert code == 2
    assert "pulumi stack init management" in capsys.readouterr().err


def test_encrypted_org_trail_values_are_refused_offline(project, capsys):
    stack_file = project / "Pulumi.security.yaml"
    stack_file.write_text(
        stack_file.read_text() + "  org-trail:kmsKeyAlias:\n    secure: AAABAHh0\n"
    )
    assert main(["plan", "--stack", "security", "--project-dir", str(project)]) == 2
    assert "encrypted" in capsys.readouterr().err


def test_property_lines_flatten_nested_inputs_and_summarise_policies():
    policy = json.dumps(
        {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    lines = property_lines({"rules": [{"days": 30.0, "x": {"y": True}}], "policy": policy})
    assert lines == [
        'policy: A: Allow "s3:GetObject" on "*"',
        "rules[0].days = 30",
        "rules[0].x.y = true",
    ]


def test_plan_refuses_what_the_pulumi_cli_refuses_in_its_own_words(project, capsys):
    stack_file = project / "Pulumi.management.yaml"
    text = stack_file.read_text().replace('  org-trail:securityAccountId: "222222222222"\n', "")
    stack_file.write_text(text.replace("org-trail:insights: true", "org-trail:insights: maybe"))
    code = main(["plan", "--stack", "management", "--project-dir", str(project)])
    out = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert (
        "Stack 'management' with configuration key 'org-trail:insights' must be of type 'boolean'"
        in out
    )
    assert "Stack 'management' is missing configuration value 'org-trail:securityAccountId'" in out


def test_plan_refuses_a_project_file_the_pulumi_cli_refuses(project, capsys):
    project_file = project / "Pulumi.yaml"
    project_file.write_text(project_file.read_text() + "  aws:region:\n    default: us-east-1\n")
    assert main(["plan", "--stack", "security", "--project-dir", str(project)]) == 2
    assert "should not define a default value" in " ".join(capsys.readouterr().err.split())


def test_plan_diff_shows_what_changed_since_a_saved_plan(project, tmp_path, capsys):
    argv = ["plan", "--stack", "management", "--project-dir", str(project), "--no-policy"]
    assert main([*argv, "--json"]) == 0
    saved = tmp_path / "plan.json"
    saved.write_text(capsys.readouterr().out)
    assert main([*argv, "--diff", str(saved)]) == 0
    assert capsys.readouterr().out.splitlines() == ["stack management: 0 changes"]

    stack_file = project / "Pulumi.management.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("logRetentionDays: 365", "logRetentionDays: 400")
    )
    assert main([*argv, "--diff", str(saved)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The trail's log group and the Insights notifier's keep their events that long.
    assert lines[0] == "stack management: 2 changes"
    assert [line.rsplit("::", 1)[-1] for line in lines[1:]] == [
        "organization-trail-log-group (retentionInDays)",
        "trail-alerts-notifier-logs (retentionInDays)",
    ]
    assert all(line.startswith("    ~ urn:pulumi:management::org-trail::") for line in lines[1:])
    # With --json the changes are in the plan document, the same lines per stack.
    assert main([*argv, "--diff", str(saved), "--json"]) == 0
    document = conforming("plan", capsys.readouterr().out)
    assert document["changes"] == {"management": [line.strip() for line in lines[1:]]}


def test_plan_diff_of_something_else_than_a_plan_is_refused(tmp_path, capsys):
    other = tmp_path / "verify.json"
    other.write_text('{"schemaVersion": 1, "checks": []}')
    argv = ["plan", "--stack", "management", "--no-policy", "--diff", str(other), "--json"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert f"--diff {other} is not a plan saved with --json" in captured.err
    assert conforming("error", captured.out)["error"]["code"] == "UsageError"
    assert main([*argv[:-3], "--diff", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: No such file or directory" in capsys.readouterr().err


def test_plan_diff_of_an_unreadable_file_is_refused(tmp_path, capsys):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    assert main(["plan", "--stack", "management", "--no-policy", "--diff", str(bad)]) == 2
    assert f"--diff {bad} is not JSON: " in capsys.readouterr().err


def test_the_cost_heavy_choices_are_named_with_their_figures(project, tmp_path, capsys):
    from orgtrail.cost.volume import MONTH_DAYS
    from tests.support.cloudtrail_events import corpus, write_logs

    argv = ["plan", "--stack", "management", "--project-dir", str(project), "--no-policy"]
    assert main([*argv, "--json"]) == 0
    warnings = conforming("plan", capsys.readouterr().out)["costWarnings"]
    assert [(w["id"], w["usdPerMonth"]) for w in warnings] == [
        ("data-events-to-cloudwatch-logs", None),
        ("insights-organisation-wide", None),
    ]
    assert warnings[1]["cheaper"] is None  # nothing cheaper tells someone of unusual activity
    # A volume profile gives figures, and a small organisation's Insights are not called out.
    logs = tmp_path / "logs"
    write_logs(logs, corpus(benign=2000).events)
    main(["cost", "--logs", str(logs), "--offline", "--json"])
    profile = tmp_path / "cost.json"
    profile.write_text(capsys.readouterr().out)
    items = {i["id"]: i for i in json.loads(profile.read_text())["items"]}
    stack_file = project / "Pulumi.management.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("s3IncludeTrailBucket: false", "s3IncludeTrailBucket: true")
    )
    assert main([*argv, "--json", "--cost-profile", str(profile)]) == 0
    warnings = {w["id"]: w for w in json.loads(capsys.readouterr().out)["costWarnings"]}
    assert set(warnings) == {"s3-data-events-trail-bucket", "data-events-to-cloudwatch-logs"}
    # The loop's cost: each file delivered a month a data event (the profile recorded no
    # writes to the log buckets), at the data events' price.
    assert warnings["s3-data-events-trail-bucket"]["usdPerMonth"] == round(
        items["s3-put-requests"]["quantityPerMonth"] / 100_000 * 0.10, 2
    )
    assert warnings["data-events-to-cloudwatch-logs"]["usdPerMonth"] == round(
        items["cloudwatch-logs-ingestion-data"]["usdPerMonth"], 2
    )
    main([*argv, "--cost-profile", str(profile)])
    text = capsys.readouterr().out
    assert "Cost-heavy choices:" in text and "from the volume profile's writes to the log" in text
    # A profile of the previous org-trail (no groups, one data-events item) still gives figures.
    old = json.loads(profile.read_text())
    window = old["window"]
    old["items"] = [
        {"id": "data-events", "quantityPerMonth": 120_000.0, "usdPerMonth": 0.12,
         "price": {"usd": 0.1, "per": 100_000, "source": "x"}},
        {"id": "cloudwatch-logs-ingestion", "quantityPerMonth": 2.0, "usdPerMonth": 1.0,
         "price": {"usd": 0.5, "per": 1, "source": "x"}},
    ]  # fmt: skip
    profile.write_text(json.dumps(old))
    assert main([*argv, "--json", "--cost-profile", str(profile)]) == 0
    warnings = {w["id"]: w for w in json.loads(capsys.readouterr().out)["costWarnings"]}
    share = 120_000 / (window["events"] * MONTH_DAYS / window["days"])
    assert warnings["data-events-to-cloudwatch-logs"]["usdPerMonth"] == round(min(share, 1), 2)
    assert warnings["s3-data-events-trail-bucket"]["usdPerMonth"] is None
