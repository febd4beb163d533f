"""`orgtrail verify`: the live setup checked against what the stacks promise."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orgtrail.__main__ import main
from orgtrail.contract.outputs import CHECK_AREAS
from orgtrail.contract.policy_documents import access_log_bucket_policy
from orgtrail.ops.aws import current_account
from orgtrail.ops.verify import GUARDRAILS, Expected, expected_from, verify
from tests.support.moto_org import (
    CENTRAL_BUCKET,
    MANAGEMENT,
    ROLE,
    TRAIL_NAME,
    all_s3_objects_but,
)
from tests.support.proxy import accounts_without_status, trail_rewrite
from tests.support.stacks import management_stack_file, security_stack_file

NOW = datetime.now(UTC)
ACTIVE = ("management", "security", "payments", "data", "sandbox", "locked-out")


def deliver_for(org, names):
    for name in names:
        org.deliver(name, "us-east-1", NOW - timedelta(hours=3))


# moto has no Organizations S3 policies; the seeded organisation has the SCPs and the RCP.
IN_THE_EMULATOR = Expected(
    guardrails=tuple(name for name, kind in GUARDRAILS.items() if kind != "S3_POLICY")
)


def security_role(org) -> str:
    """The role that reads the central bucket and describes its key, as the runbook has it."""
    return f"arn:aws:iam::{org.accounts['security']}:role/{ROLE}"


def results(
    org, trail=TRAIL_NAME, now=NOW, expected=IN_THE_EMULATOR, region="us-east-1"
) -> dict[str, object]:
    management = current_account()
    reader = management.assume_role_arn(security_role(org))
    checks = verify(management, CENTRAL_BUCKET, trail, region, None, reader, now, expected)
    return {check.name: check for check in checks}


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


def test_the_days_read_are_utc_days_whatever_the_local_time_zone(org, far_ahead_of_utc):
    # At 11:00 UTC it is already tomorrow 01:00 here; a delivery 23 h ago is filed under
    # yesterday's UTC day, which the local window (today and tomorrow) would not list.
    now = NOW.replace(hour=11, minute=0, second=0, microsecond=0)
    for name in ACTIVE:
        org.deliver(name, "us-east-1", now - timedelta(hours=23))
    check = results(org, now=now)["every active account delivered in the last 24 h"]
    assert (check.ok, check.detail) == (True, "6 active accounts delivered")


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
                "Name": "writes only",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "readOnly", "Equals": ["false"]},
                ],
            },
            {
                "Name": "one bucket",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::one-bucket/"]},
                ],
            },
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
        "trail key is a customer managed key of the security account",
        "org-trail-protect-log-pipeline denies what it must",
        "org-trail-log-data-perimeter denies what it must",
        "Insights",
        "management events, read and write",
        "S3 object data events",
        "Lambda data events",
        "CloudWatch Logs delivery",
        "the trail has a CloudWatch Logs group to alarm on",  # nothing can alarm on it
        "logging without delivery errors",
        "Block Public Access",
        "policy lets this trail write",
    }
    assert failed["Insights"] == "missing ApiErrorRateInsight"
    # Not the security account's key: the guardrails protect another one.
    unrelated = "arn:aws:kms:us-east-1:111111111111:key/x"
    assert failed["trail key is a customer managed key of the security account"] == (
        f"NotFoundException: Key '{unrelated}' does not exist"
    )
    assert failed["org-trail-protect-log-pipeline denies what it must"] == (
        "does not deny kms:ScheduleKeyDeletion, kms:DisableKey, kms:PutKeyPolicy, "
        "kms:DisableKeyRotation, kms:CreateAlias, kms:UpdateAlias, kms:DeleteAlias on "
        f"{unrelated}"
    )
    assert failed["org-trail-log-data-perimeter denies what it must"] == (
        f"does not deny kms:Decrypt on {unrelated}"
    )
    assert failed["management events, read and write"] == "not recorded: read management events"
    assert failed["S3 object data events"] == (
        "not recorded: read and write AWS::S3::Object data events "
        "(resources.ARN other than arn:aws:s3:::one-bucket/…)"
    )
    assert failed["Lambda data events"] == (
        "not recorded: read and write AWS::Lambda::Function data events"
    )
    assert failed["CloudWatch Logs delivery"] == "no CloudWatch Logs group"
    assert failed["logging without delivery errors"] == "not logging"
    assert failed["Block Public Access"] == "off: BlockPublicPolicy"
    assert failed["policy lets this trail write"] == (
        "other trails may write too (aws:SourceArn missing)"
    )


def emulated_management_stack(tmp_path, org):
    """The management stack's file as the emulator can hold it: no Organizations S3 policy."""
    deployer = f"arn:aws:iam::{org.accounts['security']}:role/deploy"
    return management_stack_file(
        tmp_path,
        organization_id=org.organization_id,
        management_account=MANAGEMENT,
        security_account=org.accounts["security"],
        guardrails={"blockPublicAccess": False, "exemptRoleArns": [deployer]},
    )


def test_cli_exits_1_on_failure_and_0_when_all_pass(org, capsys, tmp_path):
    stack = emulated_management_stack(tmp_path, org)
    args = [
        "verify",
        "--log-bucket",
        CENTRAL_BUCKET,
        "--trail",
        TRAIL_NAME,
        "--region",
        "us-east-1",
        "--stack-config",
        str(stack),
        "--log-bucket-role-arn",
        security_role(org),
        "--json",
    ]
    assert main(args) == 1
    failed = [c["name"] for c in json.loads(capsys.readouterr().out)["checks"] if not c["ok"]]
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
    assert {check.area for check in checks} == {
        "trail",
        "bucket",
        "keys",
        "guardrails",
        "alerts",
        "analysis",
        "delivery",
    }
    alerts = next(check for check in checks if check.area == "alerts")
    assert (alerts.id, alerts.ok, alerts.detail) == (
        "alerts.log-group",
        False,
        "the trail was not read",
    )


def test_the_trails_own_log_buckets_may_be_left_out_of_s3_data_events(org):
    deliver_for(org, ACTIVE)
    security = org.member("security").client("s3")
    security.create_bucket(Bucket="acme-org-trail-access-logs")
    delivery = access_log_bucket_policy(
        org.organization, "acme-org-trail-access-logs", [CENTRAL_BUCKET]
    )
    # moto applies Deny statements without their conditions (the TLS-only Deny stays out) and
    # recognises a logging grant only with a single Resource string.
    delivery["Statement"] = [s for s in delivery["Statement"] if s["Effect"] == "Allow"]
    (grant,) = delivery["Statement"]
    (grant["Resource"],) = grant["Resource"]
    security.put_bucket_policy(Bucket="acme-org-trail-access-logs", Policy=json.dumps(delivery))
    security.put_bucket_logging(
        Bucket=CENTRAL_BUCKET,
        BucketLoggingStatus={
            "LoggingEnabled": {
                "TargetBucket": "acme-org-trail-access-logs",
                "TargetPrefix": f"{CENTRAL_BUCKET}/",
            }
        },
    )

    def s3_excluding(*buckets):
        org.admin.client("cloudtrail").put_event_selectors(
            TrailName=TRAIL_NAME,
            AdvancedEventSelectors=all_s3_objects_but([f"arn:aws:s3:::{b}/" for b in buckets]),
        )

    s3_excluding(CENTRAL_BUCKET, "acme-org-trail-access-logs")
    assert results(org)["S3 object data events"].ok
    s3_excluding(CENTRAL_BUCKET, "payroll-exports")
    check = results(org)["S3 object data events"]
    assert not check.ok
    assert "payroll-exports" in check.detail


def test_active_accounts_are_found_by_state_now_that_status_is_retired(org, proxy):
    accounts_without_status(proxy)
    deliver_for(org, [name for name in ACTIVE if name != "sandbox"])
    check = results(org)["every active account delivered in the last 24 h"]
    assert not check.ok
    assert org.accounts["sandbox"] in check.detail


def test_guardrail_policy_types_must_be_enabled_and_attached(org):
    deliver_for(org, ACTIVE)
    checks = results(org, expected=Expected())
    s3 = checks["S3_POLICY enabled and attached"]
    assert not s3.ok
    assert "aws organizations enable-policy-type --root-id r-" in s3.detail
    assert "--policy-type S3_POLICY" in s3.detail
    scp = checks["SERVICE_CONTROL_POLICY enabled and attached"]
    assert scp.ok
    assert f"org-trail-protect-log-pipeline -> {org.accounts['security']}" in scp.detail
    organizations = org.admin.client("organizations")
    (perimeter,) = [
        p
        for p in organizations.list_policies(Filter="RESOURCE_CONTROL_POLICY")["Policies"]
        if p["Name"] == "org-trail-log-data-perimeter"
    ]
    organizations.detach_policy(PolicyId=perimeter["Id"], TargetId=org.accounts["security"])
    rcp = results(org)["RESOURCE_CONTROL_POLICY enabled and attached"]
    assert (rcp.ok, rcp.detail) == (False, "not attached: org-trail-log-data-perimeter")


def test_the_stack_file_says_what_is_expected(tmp_path):
    def expected(**keys):
        return expected_from(
            management_stack_file(
                tmp_path,
                organization_id="o-a1b2c3d4e5",
                management_account=MANAGEMENT,
                security_account="222222222222",
                insights=False,
                **keys,
            )
        )

    assert expected(
        dataEvents={"s3": False, "lambda": True},
        guardrails={
            "protectLogPipeline": False,
            "denyLeaveOrganization": True,
            "dataPerimeter": False,
            "blockPublicAccess": False,
        },
    ) == Expected(
        s3=False,
        lambda_functions=True,
        insights=False,
        guardrails=("org-trail-deny-leave-organization",),
        security_account="222222222222",
    )
    both = expected(
        dataEvents={"s3": True, "lambda": False, "networkActivity": ["kms.amazonaws.com"]},
        guardrails={"denyLeaveOrganization": False, "protectLogPipeline": False},
    )
    assert both == Expected(
        s3=True,
        lambda_functions=False,
        insights=False,
        network_sources=("kms.amazonaws.com",),
        guardrails=("org-trail-log-data-perimeter", "org-trail-block-public-access"),
        security_account="222222222222",
    )
    assert both.guardrail_types == ("RESOURCE_CONTROL_POLICY", "S3_POLICY")
    assert expected_from(None) == Expected()


def test_a_source_arn_wildcard_lets_other_trails_write(org):
    s3 = org.member("security").client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=CENTRAL_BUCKET)["Policy"])
    for statement in policy["Statement"]:
        condition = statement.get("Condition", {})
        arn = condition.get("StringEquals", {}).pop("aws:SourceArn", None)
        if arn:
            condition["StringLike"] = {"aws:SourceArn": arn.rsplit("/", 1)[0] + "/*"}
    s3.put_bucket_policy(Bucket=CENTRAL_BUCKET, Policy=json.dumps(policy))
    check = results(org)["policy lets this trail write"]
    assert (check.ok, check.detail) == (False, "other trails may write too (aws:SourceArn missing)")


def with_key_prefix(proxy, prefix: str) -> None:
    """DescribeTrails answers with the organization trail delivering under `prefix`."""
    proxy.on(
        *trail_rewrite(lambda t: t.update(S3KeyPrefix=prefix) if t["Name"] == TRAIL_NAME else None)
    )


def test_a_key_prefix_the_bucket_policy_does_not_allow_fails(org, proxy):
    deliver_for(org, ACTIVE)  # delivered, but not under the prefix
    with_key_prefix(proxy, "org")
    failed = {name: c.detail for name, c in results(org).items() if not c.ok}
    assert set(failed) == {
        "policy lets this trail write",
        "every active account delivered in the last 24 h",
    }
    assert failed["policy lets this trail write"].startswith("CloudTrail may not write for ")
    assert failed["every active account delivered in the last 24 h"].startswith("silent: ")


def test_a_prefixed_setup_with_its_policy_and_deliveries_passes(org, proxy):
    s3 = org.member("security").client("s3")
    policy = s3.get_bucket_policy(Bucket=CENTRAL_BUCKET)["Policy"]
    s3.put_bucket_policy(Bucket=CENTRAL_BUCKET, Policy=policy.replace("/AWSLogs/", "/org/AWSLogs/"))
    for name in ACTIVE:
        org.deliver(name, "us-east-1", NOW - timedelta(hours=3), prefix="org")
    with_key_prefix(proxy, "org")
    assert [name for name, c in results(org).items() if not c.ok] == []


def security_stack(tmp_path, org, **keys):
    return security_stack_file(
        tmp_path,
        organization_id=org.organization_id,
        management_account=MANAGEMENT,
        security_account=org.accounts["security"],
        **keys,
    )


def test_the_retention_must_be_what_the_security_stack_asks(org, tmp_path):
    # Nothing delivered: moto changes a default retention only on an empty bucket.
    asks = expected_from(
        security_stack(tmp_path, org, objectLock={"mode": "COMPLIANCE", "days": 365})
    )
    assert (asks.object_lock, asks.security_account) == (
        ("COMPLIANCE", 365),
        org.accounts["security"],
    )
    expected = Expected(guardrails=IN_THE_EMULATOR.guardrails, object_lock=asks.object_lock)
    lock = results(org, expected=expected)["Object Lock with default retention"]
    assert (lock.ok, lock.detail) == (
        False,
        "GOVERNANCE 365, the security stack asks COMPLIANCE 365 days",
    )
    org.member("security").client("s3").put_object_lock_configuration(
        Bucket=CENTRAL_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    same_mode = Expected(guardrails=IN_THE_EMULATOR.guardrails, object_lock=("GOVERNANCE", 365))
    lock = results(org, expected=same_mode)["Object Lock with default retention"]
    assert (lock.ok, lock.detail) == (
        False,
        "GOVERNANCE 1, the security stack asks GOVERNANCE 365 days",
    )
    assert results(org)["Object Lock with default retention"].ok  # no stack file: any retention


def test_both_stack_files_are_read_together(org, tmp_path, capsys):
    deliver_for(org, ACTIVE)
    management_file = emulated_management_stack(tmp_path, org)
    security_file = security_stack(tmp_path, org, objectLock={"mode": "COMPLIANCE", "days": 30})
    argv = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME, "--json"]
    argv += ["--stack-config", str(management_file), "--stack-config", str(security_file)]
    assert main(argv) == 1
    failed = {
        c["name"]: c["detail"] for c in json.loads(capsys.readouterr().out)["checks"] if not c["ok"]
    }
    # Without --log-bucket-role-arn the keys and the Athena table of the security account
    # cannot be read from the management account.
    assert set(failed) == {
        "Object Lock with default retention",
        "trail key is a customer managed key of the security account",
        "bucket key is a customer managed key of the security account",
        "Athena sees every active account",
    }
    assert failed["Object Lock with default retention"] == (
        "GOVERNANCE 365, the security stack asks COMPLIANCE 30 days"
    )


def test_every_check_id_is_documented_and_every_documented_one_exists():
    root = Path(__file__).resolve().parent.parent
    pattern = rf"(?:{'|'.join(CHECK_AREAS)})\.[a-z0-9-]+"
    code = "".join(
        (root / "orgtrail/ops" / name).read_text() for name in ("verify.py", "alert_path.py")
    )
    in_code = set(re.findall(rf'"({pattern})"', code))
    documented = set(
        re.findall(rf"^\| `({pattern})`", (root / "docs/operator-cli.md").read_text(), re.M)
    )
    assert in_code == documented
    assert len(in_code) == 39


def projection_without(org, *names: str) -> None:
    from orgtrail.analysis.cloudtrail_schema import ACCOUNT_PROJECTION, DATABASE, TABLE

    glue = org.member("security").client("glue")
    table = glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    listed = table["Parameters"][ACCOUNT_PROJECTION].split(",")
    kept = [a for a in listed if a not in {org.accounts[n] for n in names}]
    table_input = {k: table[k] for k in ("Name", "TableType", "PartitionKeys", "StorageDescriptor")}
    table_input["Parameters"] = {**table["Parameters"], ACCOUNT_PROJECTION: ",".join(kept)}
    glue.update_table(DatabaseName=DATABASE, TableInput=table_input)


def test_athena_seeing_every_active_account_passes(org):
    check = results(org)["Athena sees every active account"]
    assert (check.id, check.ok) == ("analysis.every-account", True)
    assert check.detail == f"{len(ACTIVE)} active accounts projected"


def test_an_active_account_athena_cannot_see_is_named(org):
    """With the management and security accounts alone (the old default), every member is
    skipped by every query over the organisation."""
    projection_without(org, "payments", "sandbox", "closed")
    check = results(org)["Athena sees every active account"]
    assert not check.ok
    assert f"{org.accounts['payments']} (payments)" in check.detail
    assert f"{org.accounts['sandbox']} (sandbox)" in check.detail
    assert org.accounts["closed"] not in check.detail  # suspended: not asked to be seen
    assert org.accounts["data"] not in check.detail


def test_a_table_that_cannot_be_read_fails_the_check(org):
    from orgtrail.analysis.cloudtrail_schema import DATABASE, TABLE

    org.member("security").client("glue").delete_table(DatabaseName=DATABASE, Name=TABLE)
    check = results(org)["Athena sees every active account"]
    assert not check.ok and "EntityNotFound" in check.detail
