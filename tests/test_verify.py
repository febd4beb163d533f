"""`orgtrail verify`: the live setup checked against what the stacks promise."""

import json
from datetime import UTC, datetime, timedelta

from orgtrail.__main__ import main
from orgtrail.aws import current_account
from orgtrail.verify import verify
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME

NOW = datetime.now(UTC)
ACTIVE = ("management", "security", "payments", "data", "sandbox", "locked-out")


def deliver_for(org, names):
    for name in names:
        org.deliver(name, "us-east-1", NOW - timedelta(hours=3))


def results(org, trail=TRAIL_NAME, now=NOW) -> dict[str, object]:
    checks = verify(current_account(), CENTRAL_BUCKET, trail, "us-east-1", now=now)
    return {check.name: check for check in checks}


def test_a_complete_setup_passes_every_check(org):
    deliver_for(org, ACTIVE)
    checks = results(org)
    assert [name for name, check in checks.items() if not check.ok] == []
    assert len(checks) == 15


def test_silent_accounts_are_named(org):
    deliver_for(org, [name for name in ACTIVE if name not in ("sandbox", "payments")])
    check = results(org)["every active account delivered in the last 24 h"]
    assert not check.ok
    assert org.accounts["sandbox"] in check.detail
    assert org.accounts["payments"] in check.detail
    assert org.accounts["data"] not in check.detail
    assert org.accounts["closed"] not in check.detail, (
        "suspended accounts deliver nothing and are not asked to"
    )


def test_old_deliveries_do_not_count(org):
    deliver_for(org, ACTIVE)
    org.deliver("sandbox", "eu-west-1", NOW - timedelta(hours=30))
    for name in ACTIVE:
        if name != "sandbox":
            org.deliver(name, "us-east-1", NOW - timedelta(hours=1))
    checks = results(org, now=NOW + timedelta(hours=22))
    assert (
        org.accounts["sandbox"] in checks["every active account delivered in the last 24 h"].detail
    )


def test_a_weakened_trail_and_bucket_fail_by_name(org):
    deliver_for(org, ACTIVE)
    cloudtrail = org.admin.client("cloudtrail")
    weak = "weak-trail"
    cloudtrail.create_trail(
        Name=weak,
        S3BucketName=CENTRAL_BUCKET,
        IsOrganizationTrail=True,
        IsMultiRegionTrail=True,
        KmsKeyId="arn:aws:kms:us-east-1:111111111111:key/x",
    )
    cloudtrail.put_insight_selectors(
        TrailName=weak, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
    )
    cloudtrail.put_event_selectors(
        TrailName=weak,
        AdvancedEventSelectors=[
            {
                "Name": "S3",
                "FieldSelectors": [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}],
            }
        ],
    )
    s3 = org.member("security").client("s3")
    s3.put_public_access_block(
        Bucket=CENTRAL_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    policy = json.loads(s3.get_bucket_policy(Bucket=CENTRAL_BUCKET)["Policy"])
    for statement in policy["Statement"]:
        statement.get("Condition", {}).get("StringEquals", {}).pop("aws:SourceArn", None)
    s3.put_bucket_policy(Bucket=CENTRAL_BUCKET, Policy=json.dumps(policy))
    checks = results(org, trail=weak)
    failed = {name: check.detail for name, check in checks.items() if not check.ok}
    assert set(failed) == {
        "log file validation",
        "Insights",
        "S3 and Lambda data events",
        "logging without delivery errors",
        "Block Public Access",
        "policy lets this trail write",
    }
    assert failed["Insights"] == "missing ApiErrorRateInsight"
    assert failed["S3 and Lambda data events"] == "missing AWS::Lambda::Function"
    assert failed["logging without delivery errors"] == "not logging"
    assert failed["Block Public Access"] == "off: BlockPublicPolicy"
    assert "other trails may write too" in failed["policy lets this trail write"]


def test_cli_exits_1_on_failure_and_0_when_all_pass(org, capsys):
    args = [
        "verify",
        "--log-bucket",
        CENTRAL_BUCKET,
        "--trail",
        TRAIL_NAME,
        "--region",
        "us-east-1",
        "--json",
    ]
    assert main(args) == 1
    failed = [c["name"] for c in json.loads(capsys.readouterr().out) if not c["ok"]]
    assert failed == ["every active account delivered in the last 24 h"]
    deliver_for(org, ACTIVE)
    assert main(args) == 0
    capsys.readouterr()


def test_a_missing_trail_is_a_failed_check_not_a_crash(org):
    checks = verify(current_account(), CENTRAL_BUCKET, "no-such-trail", "us-east-1", now=NOW)
    assert (checks[0].name, checks[0].ok, checks[0].detail) == (
        "exists",
        False,
        "no trail no-such-trail in us-east-1",
    )
    assert {check.area for check in checks} == {"trail", "bucket", "delivery"}
