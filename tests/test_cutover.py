"""`orgtrail cutover`: legacy trails stop only after the organization trail covered the overlap."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from orgtrail.__main__ import main
from orgtrail.aws import current_account
from orgtrail.cutover import cutover, load_management_settings
from tests.support.moto_org import CENTRAL_BUCKET, MANAGEMENT, TRAIL_NAME

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
DAY = timedelta(hours=24)


def write_stack(tmp_path, org, legacy):
    config = {
        "aws:region": "us-east-1",
        "org-trail:organizationId": org.organization_id,
        "org-trail:managementAccountId": MANAGEMENT,
        "org-trail:securityAccountId": org.accounts["security"],
        "org-trail:trailName": TRAIL_NAME,
        "org-trail:securityStack": "acme/org-trail/security",
        "org-trail:legacyTrails": legacy,
    }
    path = tmp_path / "Pulumi.management.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def payments_trail(org):
    return {
        "accountId": org.accounts["payments"],
        "region": "eu-west-1",
        "trailName": "default",
        "bucket": "acme-payments-trail",
    }


def data_trail(org):
    return {
        "accountId": org.accounts["data"],
        "region": "us-east-1",
        "trailName": "audit",
        "bucket": "acme-data-audit",
        "prefix": "audit",
    }


def run(org, tmp_path, legacy, apply=False, now=NOW):
    settings = load_management_settings(write_stack(tmp_path, org, legacy))
    return cutover(current_account(), settings, CENTRAL_BUCKET, apply=apply, now=now)


def trail_logging(org, account, region, name) -> bool:
    return org.member(account, region).client("cloudtrail").get_trail_status(Name=name)["IsLogging"]


def test_dry_run_reports_ready_and_stops_nothing(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)])["trails"]
    assert decision["action"] == "ready"
    assert decision["deliveries"] == 49
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_apply_stops_a_fully_covered_trail_and_keeps_trail_and_bucket(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "stopped"
    payments = org.member("payments", "eu-west-1")
    assert not trail_logging(org, "payments", "eu-west-1", "default")
    assert [t["Name"] for t in payments.client("cloudtrail").describe_trails()["trailList"]] == [
        "default"
    ]
    payments.client("s3").head_bucket(Bucket="acme-payments-trail")


def test_a_second_run_reports_already_stopped(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    run(org, tmp_path, [payments_trail(org)], apply=True)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "already-stopped"


@pytest.mark.parametrize(
    ("deliveries", "reason"),
    [
        ([], "no log file delivered"),
        ([(timedelta(hours=10), timedelta(0))], "covers only 10.0 h of the window"),
        ([(DAY, timedelta(hours=12)), (timedelta(hours=8), timedelta(0))], "no delivery for 4.0 h"),
        ([(DAY, timedelta(hours=5))], "h ago"),
    ],
)
def test_short_missing_or_broken_delivery_withholds_the_cutover(org, tmp_path, deliveries, reason):
    for start, end in deliveries:
        org.deliver_every("payments", "eu-west-1", NOW - start, NOW - end)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert reason in decision["reason"]
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_deliveries_are_counted_per_account_and_region(org, tmp_path):
    org.deliver_every(
        "payments", "us-east-1", NOW - DAY, NOW
    )  # the right account, the wrong region
    org.deliver_every("data", "eu-west-1", NOW - DAY, NOW)  # the right region, the wrong account
    (decision,) = run(org, tmp_path, [payments_trail(org)])["trails"]
    assert decision["action"] == "withheld"
    assert decision["deliveries"] == 0


def test_an_organization_trail_that_is_not_logging_withholds_everything(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.admin.client("cloudtrail").stop_logging(Name=TRAIL_NAME)
    report = run(org, tmp_path, [payments_trail(org)], apply=True)
    assert "is not logging" in report["organizationTrailProblem"]
    (decision,) = report["trails"]
    assert decision["action"] == "withheld"
    assert "is not logging" in decision["reason"]
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_a_missing_legacy_trail_is_withheld_not_an_error(org, tmp_path):
    ghost = {**payments_trail(org), "trailName": "ghost-trail"}
    (decision,) = run(org, tmp_path, [ghost])["trails"]
    assert decision["action"] == "withheld"
    assert decision["reason"] == "legacy trail not found"


def test_cli_lists_each_trail_and_exits_1_when_any_is_withheld(org, tmp_path, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    code = main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["applied"] is False
    assert {t["trailName"]: t["action"] for t in report["trails"]} == {
        "default": "ready",
        "audit": "withheld",
    }
    assert trail_logging(org, "payments", "eu-west-1", "default")
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_cli_refuses_credentials_of_another_account(org, tmp_path, capsys, monkeypatch):
    path = write_stack(tmp_path, org, [payments_trail(org)])
    text = path.read_text().replace(MANAGEMENT, "999999999999")
    path.write_text(text)
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "credentials of the management account 999999999999" in capsys.readouterr().out


def test_cli_reports_an_invalid_stack_config_and_exits_2(tmp_path, capsys):
    path = tmp_path / "Pulumi.management.yaml"
    config = {"aws:region": "us-east-1", "org-trail:organizationId": "bad"}
    path.write_text(yaml.safe_dump({"config": config}))
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "is missing configuration values" in capsys.readouterr().out
    config["org-trail:managementAccountId"] = "111111111111"
    config["org-trail:securityAccountId"] = "222222222222"
    path.write_text(yaml.safe_dump({"config": config}))
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "org-trail:organizationId" in capsys.readouterr().out
