"""`orgtrail cutover`: legacy trails stop only after the organization trail covered the overlap."""

import argparse
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from rich.console import Console

from orgtrail.__main__ import main
from orgtrail.contract.config import ConfigError
from orgtrail.contract.stack_config import StackConfigError
from orgtrail.ops.aws import current_account
from orgtrail.ops.cutover import (
    MAXIMUM_HOURS,
    UNDECIDED,
    CutoverError,
    cutover,
    hours,
    load_management_settings,
    report_table,
)
from orgtrail.project import CHECKOUT
from tests.support.contract import conforming
from tests.support.moto_org import CENTRAL_BUCKET, MANAGEMENT, TRAIL_NAME, all_s3_objects_but
from tests.support.proxy import (
    Answer,
    enabled_regions_only,
    failing_listings,
    json_error,
    trail_rewrite,
    xml_error,
)
from tests.support.stacks import management_stack_file, security_config
from tests.support.tables import table_rows

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
DAY = timedelta(hours=24)


def applying(path) -> list[str]:
    """`cutover --apply --yes` on a stack file."""
    return [
        "cutover",
        "--stack-config",
        str(path),
        "--log-bucket",
        CENTRAL_BUCKET,
        "--apply",
        "--yes",
    ]


def write_stack(tmp_path, org, legacy, trail_name=TRAIL_NAME):
    return management_stack_file(
        tmp_path,
        organization_id=org.organization_id,
        management_account=MANAGEMENT,
        security_account=org.accounts["security"],
        trailName=trail_name,
        legacyTrails=legacy,
        guardrails={"exemptRoleArns": [f"arn:aws:iam::{org.accounts['security']}:role/deploy"]},
    )


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


def organization_trail_arn(org) -> str:
    return org.admin.client("cloudtrail").get_trail(Name=TRAIL_NAME)["Trail"]["TrailARN"]


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


def test_a_rerun_after_the_organization_trail_stopped_is_no_all_clear(org, tmp_path, capsys):
    """The legacy trail was stopped by an earlier run; now the organization trail is not
    logging either: nothing records the account, said as withheld, exit 1."""
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    run(org, tmp_path, [payments_trail(org)], apply=True)
    org.admin.client("cloudtrail").stop_logging(Name=TRAIL_NAME)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path, "--json")) == 1
    (decision,) = json.loads(capsys.readouterr().out)["trails"]
    assert decision["action"] == "withheld"
    assert decision["reason"].startswith("already stopped, and ")
    assert "is not logging" in decision["reason"]
    assert "nothing may be recording this account" in decision["reason"]


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
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert "is not logging" in decision["reason"]
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_a_missing_legacy_trail_is_withheld_not_an_error(org, tmp_path):
    ghost = {**payments_trail(org), "trailName": "ghost-trail"}
    (decision,) = run(org, tmp_path, [ghost])["trails"]
    assert decision["action"] == "withheld"
    assert decision["reason"] == "legacy trail not found"


@pytest.mark.parametrize(
    "name", ["Pulumi.management.yml", "management.yaml", "Pulumi.yaml.txt", "Pulumi.yaml"]
)
def test_only_a_pulumi_stack_file_is_read(tmp_path, name):
    with pytest.raises(StackConfigError) as raised:
        load_management_settings(tmp_path / name)
    assert str(raised.value).startswith(
        f"{tmp_path / name} is not named as a stack config file: Pulumi.<stack>.yaml"
    )


def test_each_way_a_stack_file_cannot_be_read_is_named_apart(tmp_path):
    """A missing file, a directory, bad YAML and a bad value each say what is wrong."""
    broken = tmp_path / "Pulumi.management.yaml"
    (tmp_path / "Pulumi.dir.yaml").mkdir()
    said = {}
    for case, path in {
        "missing": tmp_path / "Pulumi.absent.yaml",
        "directory": tmp_path / "Pulumi.dir.yaml",
        "yaml": broken,
    }.items():
        if case == "yaml":
            broken.write_text("config:\n  aws:region: [\n")
        with pytest.raises(StackConfigError) as raised:
            load_management_settings(path)
        said[case] = str(raised.value)
    assert said["missing"] == f"{tmp_path / 'Pulumi.absent.yaml'}: no such file"
    assert (
        said["directory"]
        == f"{tmp_path / 'Pulumi.dir.yaml'} is a directory, not a stack config file"
    )
    assert said["yaml"].startswith(f"{broken} is not valid YAML: ")
    example = (CHECKOUT / "Pulumi.management.yaml").read_text()
    broken.write_text(example.replace("aws:region: us-east-1", "aws:region: us-east-7"))
    with pytest.raises(ConfigError, match=r"aws:region: 'us-east-7' is not an AWS region"):
        load_management_settings(broken)


def test_a_stack_name_may_hold_dots_and_must_be_the_management_stacks(org, tmp_path):
    written = write_stack(tmp_path, org, [payments_trail(org)])
    dotted = written.rename(tmp_path / "Pulumi.acme.prod.yaml")
    with pytest.raises(ConfigError) as raised:
        load_management_settings(dotted)
    assert "acme.prod" in str(raised.value)
    config = yaml.safe_load(dotted.read_text())
    config["config"]["org-trail:stackKind"] = "management"
    dotted.write_text(yaml.safe_dump(config))
    assert load_management_settings(dotted).organization.organization_id == org.organization_id
    security = tmp_path / "Pulumi.security.yaml"
    native = {key: yaml.safe_load(value) for key, value in security_config().items()}
    security.write_text(yaml.safe_dump({"config": native}))
    with pytest.raises(StackConfigError) as raised:
        load_management_settings(security)
    assert (
        str(raised.value) == f"{security} configures the security stack, not the management stack"
    )


def test_cli_lists_each_trail_and_exits_1_when_any_is_withheld(org, tmp_path, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    code = main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, "--json"])
    report = conforming("cutover", capsys.readouterr().out)
    assert code == 1
    assert report["applied"] is False
    assert {t["trailName"]: t["action"] for t in report["trails"]} == {
        "default": "ready",
        "audit": "withheld",
    }
    assert report["summary"] == {"stopped": 0, "ready": 1, "already-stopped": 0, "withheld": 1}
    assert [t["id"] for t in report["trails"]] == [
        f"arn:aws:cloudtrail:eu-west-1:{org.accounts['payments']}:trail/default",
        f"arn:aws:cloudtrail:us-east-1:{org.accounts['data']}:trail/audit",
    ]
    assert trail_logging(org, "payments", "eu-west-1", "default")
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_cli_refuses_credentials_of_another_account(org, tmp_path, capsys, monkeypatch):
    path = write_stack(tmp_path, org, [payments_trail(org)])
    text = path.read_text().replace(MANAGEMENT, "999999999999")
    path.write_text(text)
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "credentials of the management account 999999999999" in capsys.readouterr().err


def test_cli_reports_an_invalid_stack_config_and_exits_2(tmp_path, capsys):
    path = tmp_path / "Pulumi.management.yaml"
    config = {"aws:region": "us-east-1", "org-trail:organizationId": "bad"}
    path.write_text(yaml.safe_dump({"config": config}))
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "is missing configuration values" in capsys.readouterr().err
    config["org-trail:managementAccountId"] = "111111111111"
    config["org-trail:securityAccountId"] = "222222222222"
    path.write_text(yaml.safe_dump({"config": config}))
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "org-trail:organizationId" in capsys.readouterr().err


# --- what the organization trail records, against what the legacy trail records ------------


def org_selectors(org, *selectors):
    org.admin.client("cloudtrail").put_event_selectors(
        TrailName=TRAIL_NAME, AdvancedEventSelectors=list(selectors)
    )


MANAGEMENT_WRITES = {
    "Name": "Management events selector",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "Equals": ["false"]},
    ],
}


def test_an_org_trail_recording_only_writes_does_not_replace_one_recording_reads(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org_selectors(org, MANAGEMENT_WRITES)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert "does not record: read management events" in decision["reason"]
    assert trail_logging(org, "payments", "eu-west-1", "default")


def payments_records_s3_objects(org, under: str) -> None:
    """The payments legacy trail records management events and S3 object events `under` an ARN
    prefix (basic selectors, as older trails have them)."""
    org.member("payments", "eu-west-1").client("cloudtrail").put_event_selectors(
        TrailName="default",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [under]}],
            }
        ],
    )


def test_legacy_data_events_must_be_recorded_by_the_org_trail(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    payments_records_s3_objects(org, "arn:aws:s3:::payments-data/")
    only_management = {
        "Name": "Management events selector",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
    }
    org_selectors(org, only_management)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert (
        "read and write AWS::S3::Object data events under arn:aws:s3:::payments-data/"
        in (decision["reason"])
    )
    one_bucket = {
        "Name": "one bucket",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::other-bucket/"]},
        ],
    }
    org_selectors(org, only_management, one_bucket)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_a_single_region_org_trail_does_not_replace_a_legacy_trail_elsewhere(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.admin.client("cloudtrail").update_trail(Name=TRAIL_NAME, IsMultiRegionTrail=False)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert "region eu-west-1 (the organization trail is single-region)" in decision["reason"]


def test_a_multi_region_legacy_trail_needs_every_enabled_region_proven(org, tmp_path, proxy):
    enabled_regions_only(proxy, {"us-east-1", "eu-west-1", "ap-south-1"})
    for region in ("us-east-1", "eu-west-1"):
        org.deliver_every("data", region, NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [data_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert decision["reason"].startswith("ap-south-1: no log file delivered")
    assert decision["regions"] == ["ap-south-1", "eu-west-1", "us-east-1"]
    assert trail_logging(org, "data", "us-east-1", "audit")
    org.deliver_every("data", "ap-south-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [data_trail(org)], apply=True)["trails"]
    assert decision["action"] == "stopped"
    assert decision["deliveries"] == 3 * 49
    assert not trail_logging(org, "data", "us-east-1", "audit")


def test_a_legacy_trail_that_is_itself_an_organization_trail_is_refused(org, tmp_path, proxy):
    def as_organization_trail(trail):
        if trail["Name"] == "default":
            trail["IsOrganizationTrail"] = True

    proxy.on(*trail_rewrite(as_organization_trail))
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert decision["reason"] == (
        "the organization trail does not record: default is itself an organization trail: "
        "cutover does not stop one; check every account and region it covers and stop it by hand"
    )
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_the_log_bucket_must_be_the_org_trails_bucket(org, tmp_path, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    argv = [
        "cutover",
        "--stack-config",
        str(path),
        "--log-bucket",
        "acme-org-trail-lgos",
        "--apply",
        "--yes",
    ]
    assert main(argv) == 2
    assert "is not where the organization trail delivers" in " ".join(
        capsys.readouterr().err.split()
    )
    assert trail_logging(org, "payments", "eu-west-1", "default")


# --- states moto cannot produce ------------------------------------------------------------


def status_of(proxy, trail, rewrite):
    """GetTrailStatus of the trail named `trail` answers `rewrite(answer)` instead."""

    def rule(call, answer):
        if call.json().get("Name", "").endswith(f"trail/{trail}"):
            return rewrite(answer)
        return None

    proxy.on("GetTrailStatus", rule)


def test_a_delivery_error_on_the_org_trail_withholds(org, tmp_path, proxy):
    status_of(
        proxy,
        TRAIL_NAME,
        lambda answer: answer.with_json({**answer.json(), "LatestDeliveryError": "AccessDenied"}),
    )
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "withheld"
    assert "delivery error: AccessDenied" in decision["reason"]


def stop_after_first_stop(proxy, change) -> None:
    """Once a legacy trail has been stopped, the organization trail's answers to `operation`
    read as `change` makes them (operation, change(answer document))."""
    stops = []
    proxy.on("StopLogging", lambda call, answer: stops.append(call))
    operation, rewrite = change

    def after_the_first(call, answer):
        if stops and TRAIL_NAME in json.dumps(call.json()):
            return answer.with_json(rewrite(answer.json()))
        return None

    proxy.on(operation, after_the_first)


def test_the_org_trail_is_reread_before_each_stop(org, tmp_path, proxy):
    stop_after_first_stop(proxy, ("GetTrailStatus", lambda status: {**status, "IsLogging": False}))
    enabled_regions_only(proxy, {"us-east-1"})
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    report = run(org, tmp_path, [payments_trail(org), data_trail(org)], apply=True)
    assert [t["action"] for t in report["trails"]] == ["stopped", "withheld"]
    assert report["trails"][1]["reason"] == (
        f"just before the stop: organization trail {organization_trail_arn(org)} is not logging"
    )
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_a_lost_stop_logging_answer_is_reconciled_from_the_trail(org, tmp_path, proxy):
    proxy.on("StopLogging", lambda call, answer: json_error(500, "InternalFailure", "lost"))
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert decision["action"] == "stopped"
    assert (
        decision["reason"] == "StopLogging answered InternalFailure: lost, but the trail is stopped"
    )
    assert not trail_logging(org, "payments", "eu-west-1", "default")


def test_a_listing_that_fails_after_a_stop_withholds_that_trail_and_reports_all(
    org, tmp_path, proxy, capsys
):
    throttled = xml_error(503, "SlowDown", "Please reduce your request rate.")
    failing_listings(proxy, org.accounts["data"], throttled)
    enabled_regions_only(proxy, {"us-east-1"})
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    argv = applying(path)
    assert main([*argv, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    actions = {t["trailName"]: (t["action"], t["reason"]) for t in report["trails"]}
    assert actions["default"][0] == "stopped"
    assert actions["audit"][0] == "withheld"
    assert "SlowDown" in actions["audit"][1]
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_the_report_is_printed_even_when_something_unexpected_breaks(
    org, tmp_path, capsys, monkeypatch
):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    path = write_stack(tmp_path, org, [payments_trail(org), data_trail(org)])
    import orgtrail.ops.cutover as module

    real = module.covered_regions

    def breaks_on_the_data_trail(regions, account_id, member, legacy, home):
        if legacy.name == "audit":
            raise RuntimeError("a bug")
        return real(regions, account_id, member, legacy, home)

    monkeypatch.setattr(module, "covered_regions", breaks_on_the_data_trail)
    argv = applying(path)
    with pytest.raises(RuntimeError):
        main([*argv, "--json"])
    report = json.loads(capsys.readouterr().out)
    # Trails are judged before any is stopped: a crash while judging stops none.
    assert [(t["action"], t["reason"]) for t in report["trails"]] == [("withheld", UNDECIDED)] * 2
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_the_gap_boundary_is_inclusive(org, tmp_path):
    for start, end in ((DAY, timedelta(hours=14)), (timedelta(hours=12), timedelta(0))):
        org.deliver_every("payments", "eu-west-1", NOW - start, NOW - end, step_minutes=60)
    settings = load_management_settings(write_stack(tmp_path, org, [payments_trail(org)]))
    exactly = cutover(
        current_account(), settings, CENTRAL_BUCKET, max_gap=timedelta(hours=2), now=NOW
    )
    assert exactly["trails"][0]["action"] == "ready"
    tighter = timedelta(hours=2) - timedelta(minutes=1)
    withheld = cutover(current_account(), settings, CENTRAL_BUCKET, max_gap=tighter, now=NOW)
    assert withheld["trails"][0]["action"] == "withheld"


# --- usage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ["--overlap-hours", "nan"],
        ["--overlap-hours", "inf"],
        ["--max-gap-hours", "1e9"],
        ["--max-gap-hours", "-1"],
        ["--log-bucket-role-arn", "arn:aws:iam::12:role/x"],
    ],
)
def test_bad_numbers_and_arns_are_usage_errors(tmp_path, option, capsys):
    path = tmp_path / "Pulumi.management.yaml"
    with pytest.raises(SystemExit) as exit_:
        main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, *option])
    assert exit_.value.code == 2
    assert "is not" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("overlap", "gap", "message"),
    [
        (
            "12",
            "2",
            "--overlap-hours 12 is shorter than the runbook's minimum of 24: both trails must "
            "run side by side for at least a day",
        ),
        ("24", "24", "--max-gap-hours must be shorter than --overlap-hours"),
    ],
)
def test_windows_the_runbook_does_not_allow_are_refused_before_any_call(
    org, tmp_path, capsys, overlap, gap, message
):
    path = write_stack(tmp_path, org, [payments_trail(org)])
    argv = ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]
    assert (
        main([*argv, "--overlap-hours", overlap, "--max-gap-hours", gap, "--apply", "--yes"]) == 2
    )
    assert message in " ".join(capsys.readouterr().err.split())
    settings = load_management_settings(path)
    with pytest.raises(CutoverError, match=f"^{re.escape(message)}$"):
        cutover(
            current_account(),
            settings,
            CENTRAL_BUCKET,
            overlap=timedelta(hours=float(overlap)),
            max_gap=timedelta(hours=float(gap)),
        )


def test_a_stack_file_that_is_not_a_mapping_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "Pulumi.management.yaml"
    path.write_text("- not\n- a mapping\n")
    assert main(["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET]) == 2
    assert "must be a mapping" in capsys.readouterr().err


def test_a_trail_without_insights_answers_as_aws_does_and_is_judged(org, tmp_path, proxy):
    def not_enabled(call, answer):
        if "trail/default" in call.json().get("TrailName", ""):
            return json_error(400, "InsightNotEnabledException", "Insights are not enabled")
        return None

    proxy.on("GetInsightSelectors", not_enabled)
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)])["trails"]
    assert decision["action"] == "ready"


def test_hours_are_positive_finite_and_bounded():
    assert hours("1") == 1
    assert hours("0.5") == 0.5
    assert hours(f"{MAXIMUM_HOURS:g}") == MAXIMUM_HOURS
    allowed = f"a number of hours above 0 and at most {MAXIMUM_HOURS:g}"
    for text in ("0", "-1", "nan", "inf", f"{MAXIMUM_HOURS + 1:g}"):
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            hours(text)
        assert str(refused.value) == f"{text!r} is not allowed: {allowed}"
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        hours("a day")
    assert str(refused.value) == "'a day' is not a number of hours"


def test_the_table_shows_each_trail_with_its_result_and_reason():
    def trail(account, action, deliveries, reason):
        return {
            "accountId": account,
            "region": "eu-west-1",
            "trailName": "default",
            "action": action,
            "deliveries": deliveries,
            "reason": reason,
            "reasons": [reason] if action == "withheld" else [],
        }

    report = {
        "applied": False,
        "window": {"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"},
        "trails": [
            trail("333333333333", "ready", 24, "covered"),
            trail("444444444444", "withheld", 0, "no delivery for 26 h"),
            trail("555555555555", "stopped", 24, ""),
            trail("666666666666", "already-stopped", 0, ""),
        ],
    }
    console = Console(
        file=io.StringIO(), record=True, width=200, force_terminal=True, color_system="standard"
    )
    console.print(report_table(report))
    styled = console.export_text(styles=True, clear=False)
    text = console.export_text()
    assert "cutover (dry run), window 2026-11-26T00:00:00Z .. 2026-11-27T00:00:00Z" in text
    assert table_rows(text) == [
        ["account", "region", "trail", "action", "deliveries", "reason"],
        ["333333333333", "eu-west-1", "default", "ready", "24", "covered"],
        ["444444444444", "eu-west-1", "default", "withheld", "0", "no delivery for 26 h"],
        ["555555555555", "eu-west-1", "default", "stopped", "24", ""],
        ["666666666666", "eu-west-1", "default", "already-stopped", "0", ""],
    ]
    # Each result in its colour (ANSI): cyan, red, green and dim.
    for code, result in (
        ("36", "ready"),
        ("31", "withheld"),
        ("32", "stopped"),
        ("2", "already-stopped"),
    ):
        assert f"\x1b[{code}m{result}\x1b[0m" in styled
    applied = Console(record=True, width=200)
    applied.print(report_table({**report, "applied": True}))
    assert "cutover (applied), window" in applied.export_text()


def test_a_stop_logging_that_failed_leaves_the_trail_withheld_and_says_why(org, tmp_path, proxy):
    proxy.on("StopLogging", lambda call, answer: json_error(500, "InternalFailure", "lost"))
    status_of(
        proxy, "default", lambda answer: answer.with_json({**answer.json(), "IsLogging": True})
    )
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert (decision["action"], decision["reason"]) == (
        "withheld",
        "StopLogging failed: InternalFailure: lost",
    )


def test_an_unreadable_org_trail_status_withholds_and_says_why(org, tmp_path, proxy):
    status_of(proxy, TRAIL_NAME, lambda answer: json_error(400, "AccessDeniedException", "no"))
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert (decision["action"], decision["reason"]) == (
        "withheld",
        "organization trail status cannot be read: AccessDeniedException: no",
    )
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_a_region_the_account_has_not_opted_into_is_not_asked_for(org, tmp_path, proxy):
    enabled_regions_only(proxy, {"us-east-1", "ap-south-1"})

    def not_opted_in(call, answer):
        def mark(item):
            if "<regionName>ap-south-1</regionName>" not in item.group():
                return item.group()
            return re.sub(r"<optInStatus>[^<]*", "<optInStatus>not-opted-in", item.group())

        text = re.sub(r"<item>.*?</item>", mark, answer.body.decode(), flags=re.S)
        return Answer(answer.status, answer.headers, text.encode())

    proxy.on("DescribeRegions", not_opted_in)
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    (decision,) = run(org, tmp_path, [data_trail(org)])["trails"]
    assert (decision["action"], decision["regions"]) == ("ready", ["us-east-1"])


def test_the_report_names_the_first_and_last_delivery_of_the_window(org, tmp_path):
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(hours=1), NOW)
    (decision,) = run(org, tmp_path, [payments_trail(org)])["trails"]
    assert (decision["firstDelivery"], decision["lastDelivery"]) == (
        (NOW - DAY).isoformat(),
        NOW.isoformat(),
    )


def test_deliveries_are_found_under_the_org_trails_key_prefix(org, tmp_path):
    org.admin.client("cloudtrail").update_trail(Name=TRAIL_NAME, S3KeyPrefix="org")
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW, prefix="org")
    (decision,) = run(org, tmp_path, [payments_trail(org)])["trails"]
    assert (decision["action"], decision["deliveries"]) == ("ready", 49)


def cli(path, *options):
    return ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, *options]


def test_cli_allows_a_silence_of_two_hours_by_default(org, tmp_path, capsys):
    hole = (timedelta(hours=12) + timedelta(hours=2, minutes=30), timedelta(hours=12))
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW - hole[0])
    org.deliver_every("payments", "eu-west-1", NOW - hole[1], NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path, "--json")) == 1
    (decision,) = json.loads(capsys.readouterr().out)["trails"]
    assert decision["reason"].startswith("eu-west-1: no delivery for 2.5 h")
    assert main(cli(path, "--json", "--max-gap-hours", "3")) == 0


def test_cli_exits_0_when_every_exclusion_is_accepted_by_name(org, tmp_path, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    payments_records_s3_objects(org, "arn:aws:s3")  # every bucket
    left_out = ["arn:aws:s3:::scratch-one/", "arn:aws:s3:::scratch-two/"]
    org_selectors(org, *all_s3_objects_but(left_out))
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path, "--accept-excluded", left_out[0])) == 1
    capsys.readouterr()
    accepted = ["--accept-excluded", left_out[0], "--accept-excluded", left_out[1]]
    assert main(cli(path, "--json", *accepted)) == 0
    (decision,) = json.loads(capsys.readouterr().out)["trails"]
    assert decision["action"] == "ready"


@pytest.mark.parametrize(
    "waiver",
    [
        "arn:aws:s3:::",  # every bucket
        "arn:aws:s3:::scratch-one",  # also scratch-one-more, scratch-ones...
        "arn:aws:s3:::scratch-*/",
        "arn:aws:s3:::scratch-one/logs*",
        "arn:aws:s3",
        "scratch-one/",
    ],
)
def test_an_exclusion_waiver_broader_than_one_bucket_is_refused_before_any_call(
    waiver, tmp_path, capsys
):
    path = tmp_path / "Pulumi.management.yaml"  # never read: the argument is refused first
    with pytest.raises(SystemExit) as exited:
        main(cli(path, "--accept-excluded", waiver, "--json"))
    printed = capsys.readouterr()
    assert exited.value.code == 2
    assert "does not name one bucket's objects" in json.loads(printed.out)["error"]["message"]


def test_a_waiver_excuses_its_bucket_and_not_a_bucket_whose_name_starts_the_same(
    org, tmp_path, capsys
):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    payments_records_s3_objects(org, "arn:aws:s3")  # every bucket
    org_selectors(org, *all_s3_objects_but(["arn:aws:s3:::scratch-one-more/"]))
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path, "--json", "--accept-excluded", "arn:aws:s3:::scratch-one/")) == 1
    (decision,) = json.loads(capsys.readouterr().out)["trails"]
    assert decision["action"] == "withheld"
    assert main(cli(path, "--json", "--accept-excluded", "arn:aws:s3:::scratch-one-more/")) == 0
    capsys.readouterr()


def test_cli_lists_the_central_bucket_with_the_role_it_is_given(org, tmp_path, proxy, capsys):
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    role = f"arn:aws:iam::{org.accounts['security']}:role/OrganizationAccountAccessRole"
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path, "--json", "--log-bucket-role-arn", role)) == 0
    own_key = org.environment["AWS_ACCESS_KEY_ID"]
    listings = [call for call in proxy.calls if call.query.get("list-type")]
    assert listings
    assert not [call for call in listings if f"Credential={own_key}/" in call.authorization]


def test_cli_prints_the_report_as_a_table(org, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    assert main(cli(path)) == 0
    (header, row) = table_rows(capsys.readouterr().out)
    assert header == ["account", "region", "trail", "action", "deliveries", "reason"]
    assert row[:4] == [org.accounts["payments"], "eu-west-1", "default", "ready"]
    assert row[5] == "dry run: would stop (run with --apply)"


def test_each_trail_is_asked_about_in_its_own_region_not_the_sessions(org, tmp_path, proxy):
    """A caller of `cutover()` whose session is in another region (here eu-central-1): the
    organization trail's status is read in its home region, and the enabled regions are
    listed from the legacy trail's, which is known to be enabled for the account."""
    enabled_regions_only(proxy, {"us-east-1"})
    org.deliver_every("data", "us-east-1", NOW - DAY, NOW)
    with pytest.MonkeyPatch.context() as session_elsewhere:
        session_elsewhere.setenv("AWS_DEFAULT_REGION", "eu-central-1")
        (decision,) = run(org, tmp_path, [data_trail(org)])["trails"]
    assert decision["action"] == "ready"
    asked = {
        (call.operation, call.json().get("Name"), call.region)
        for call in proxy.calls
        if call.operation == "GetTrailStatus"
    }
    assert ("GetTrailStatus", organization_trail_arn(org), "us-east-1") in asked
    assert {call.region for call in proxy.calls if call.operation == "DescribeRegions"} == {
        "us-east-1"
    }


STS_CALLS = ("GetCallerIdentity", "AssumeRole")


def test_the_cli_works_in_the_stacks_region_not_the_shells(org, tmp_path, proxy, capsys):
    """`aws:region` of the stack config, not AWS_DEFAULT_REGION, is where the CLI's own
    session (who we are, the member roles it assumes) signs its requests."""
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    with pytest.MonkeyPatch.context() as shell_elsewhere:
        shell_elsewhere.setenv("AWS_DEFAULT_REGION", "eu-central-1")
        code = main(
            ["cutover", "--stack-config", str(path), "--log-bucket", CENTRAL_BUCKET, "--json"]
        )
    assert (code, json.loads(capsys.readouterr().out)["trails"][0]["action"]) == (0, "ready")
    sts = {call.operation: call.region for call in proxy.calls if call.operation in STS_CALLS}
    assert sts == dict.fromkeys(STS_CALLS, "us-east-1")


def test_insights_of_the_legacy_trail_must_be_recorded_by_the_org_trail(org, tmp_path, proxy):
    """Each thing the organization trail lacks is named, in the order they are checked."""
    org.deliver_every("payments", "eu-west-1", NOW - DAY, NOW)
    org.member("payments", "eu-west-1").client("cloudtrail").put_insight_selectors(
        TrailName="default", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}]
    )

    def org_trail_call_rate_only(call, answer):
        # moto's PutInsightSelectors adds to a trail's selectors where AWS replaces them.
        if call.json()["TrailName"].endswith(f"trail/{TRAIL_NAME}"):
            only = [{"InsightType": "ApiCallRateInsight"}]
            return answer.with_json({**answer.json(), "InsightSelectors": only})
        return None

    proxy.on("GetInsightSelectors", org_trail_call_rate_only)
    org_selectors(org, MANAGEMENT_WRITES)
    (decision,) = run(org, tmp_path, [payments_trail(org)], apply=True)["trails"]
    assert (decision["action"], decision["reason"]) == (
        "withheld",
        "the organization trail does not record: read management events; "
        "Insights ApiErrorRateInsight",
    )
    assert trail_logging(org, "payments", "eu-west-1", "default")


def test_a_legacy_trail_is_looked_for_in_its_home_region_not_among_shadow_copies(org, tmp_path):
    """The data account's multi-region trail lives in us-east-1; in eu-west-1 CloudTrail lists
    only a shadow copy of it, which cannot be stopped there."""
    elsewhere = {**data_trail(org), "region": "eu-west-1"}
    (decision,) = run(org, tmp_path, [elsewhere], apply=True)["trails"]
    assert (decision["action"], decision["reason"]) == ("withheld", "legacy trail not found")
    assert trail_logging(org, "data", "us-east-1", "audit")


def test_a_legacy_trail_the_member_role_cannot_read_is_withheld_with_the_reason(org, tmp_path):
    locked = {**payments_trail(org), "accountId": org.accounts["locked-out"]}
    (decision,) = run(org, tmp_path, [locked], apply=True)["trails"]
    assert (decision["action"], decision["reason"]) == (
        "withheld",
        "legacy trail unreadable: DescribeTrails failed (403)",
    )


def test_the_report_names_the_organization_its_trail_and_the_window(
    org, tmp_path, far_ahead_of_utc
):
    """In UTC, whatever the local time zone."""
    report = run(org, tmp_path, [payments_trail(org)])
    assert {key: report[key] for key in ("organizationId", "organizationTrailArn", "window")} == {
        "organizationId": org.organization_id,
        "organizationTrailArn": organization_trail_arn(org),
        "window": {"start": (NOW - DAY).isoformat(), "end": NOW.isoformat()},
    }


def test_an_organization_trail_that_cannot_be_relied_on_stops_the_run_with_the_reason(
    org, tmp_path, proxy
):
    trail = organization_trail_arn(org)
    ghost = trail.replace(TRAIL_NAME, "ghost")
    settings = load_management_settings(write_stack(tmp_path, org, [], trail_name="ghost"))
    with pytest.raises(CutoverError) as raised:
        cutover(current_account(), settings, CENTRAL_BUCKET, now=NOW)
    assert str(raised.value) == f"there is no organization trail {ghost}"

    proxy.on(*trail_rewrite(lambda found: found.update(IsOrganizationTrail=False)))
    with pytest.raises(CutoverError) as raised:
        run(org, tmp_path, [payments_trail(org)])
    assert str(raised.value) == f"{trail} is not an organization trail"

    proxy.clear()
    proxy.on("DescribeTrails", lambda call, answer: json_error(400, "AccessDeniedException", "no"))
    with pytest.raises(CutoverError) as raised:
        run(org, tmp_path, [payments_trail(org)])
    assert str(raised.value) == (
        f"organization trail {trail} cannot be read: AccessDeniedException: no"
    )
