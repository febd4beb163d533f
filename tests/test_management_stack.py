"""The management stack: organization trail, CloudWatch delivery, legacy bucket archival."""

import json
import re

import pulumi
import pytest

from orgtrail.offline.simulate import simulate
from orgtrail.ops.selectors import gaps, read_selectors
from orgtrail.policy_eval import ALLOW, IMPLICIT_DENY, Request, evaluate
from orgtrail.project import READ_ONLY_PREVIEW
from tests.support import selector_documents as documents
from tests.support.scopes import shared
from tests.support.stacks import (
    ACCESS_LOG_BUCKET,
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    OTHER_MEMBER_ACCOUNT,
    SECURITY_STACK,
    TRAIL_ARN,
    management_config,
    policy_of,
    run_management,
)

TRAIL = "aws:cloudtrail/trail:Trail"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def selectors_by_name(trail) -> dict[str, list[dict]]:
    return {s["name"]: s["fieldSelectors"] for s in trail.inputs["advancedEventSelectors"]}


def test_trail_is_an_organization_multi_region_validated_encrypted_trail(management, security):
    trail = management.one(TRAIL)
    assert trail.inputs["name"] == "org-trail"
    assert trail.inputs["isOrganizationTrail"] is True
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["enableLogging"] is True
    assert trail.inputs["s3BucketName"] == security.exports["logBucketName"]
    assert trail.inputs["kmsKeyId"] == security.exports["kmsKeyArn"]
    assert trail.protect


def test_trail_has_both_insight_types(management):
    trail = management.one(TRAIL)
    assert sorted(s["insightType"] for s in trail.inputs["insightSelectors"]) == [
        "ApiCallRateInsight",
        "ApiErrorRateInsight",
    ]


def test_insights_can_be_switched_off():
    trail = run_management(management_config(insights=False)).one(TRAIL)
    assert not trail.inputs.get("insightSelectors")


def test_trail_logs_management_s3_and_lambda_events_but_not_its_own_buckets(management):
    selectors = selectors_by_name(management.one(TRAIL))
    assert selectors["Management events selector"] == [
        {"field": "eventCategory", "equals": ["Management"]}
    ]
    s3 = {f["field"]: f for f in selectors["S3 object data events"]}
    assert s3["eventCategory"]["equals"] == ["Data"]
    assert s3["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert sorted(s3["resources.ARN"]["notStartsWiths"]) == sorted(
        [f"arn:aws:s3:::{LOG_BUCKET}/", f"arn:aws:s3:::{ACCESS_LOG_BUCKET}/"]
    )
    lambda_fields = {f["field"]: f["equals"] for f in selectors["Lambda data events"]}
    assert lambda_fields == {"eventCategory": ["Data"], "resources.type": ["AWS::Lambda::Function"]}


def test_strict_cis_switch_logs_object_events_of_every_bucket():
    trail = run_management(management_config(dataEvents={"s3IncludeTrailBucket": True})).one(TRAIL)
    s3 = selectors_by_name(trail)["S3 object data events"]
    assert all(f["field"] != "resources.ARN" for f in s3)


def test_data_events_can_be_switched_off_one_by_one():
    trail = run_management(management_config(dataEvents={"s3": False, "lambda": False})).one(TRAIL)
    assert list(selectors_by_name(trail)) == ["Management events selector", "Log bucket reads"]


def test_reads_of_the_log_buckets_are_recorded_and_writes_are_not(management):
    reads = {f["field"]: f for f in selectors_by_name(management.one(TRAIL))["Log bucket reads"]}
    assert reads["readOnly"]["equals"] == ["true"]
    assert reads["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert sorted(reads["resources.ARN"]["startsWiths"]) == sorted(
        [f"arn:aws:s3:::{LOG_BUCKET}/", f"arn:aws:s3:::{ACCESS_LOG_BUCKET}/"]
    )


def test_strict_cis_all_buckets_selector_already_covers_the_log_bucket_reads():
    trail = run_management(management_config(dataEvents={"s3IncludeTrailBucket": True})).one(TRAIL)
    assert "Log bucket reads" not in selectors_by_name(trail)


def test_trail_delivers_to_its_log_group_through_a_role_cloudtrail_alone_assumes(management):
    trail = management.one(TRAIL)
    group = management.one("aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group")
    role = management.one("aws:iam/role:Role", "organization-trail-cloudwatch-delivery")
    assert group.inputs["name"] == "/aws/cloudtrail/org-trail"
    assert group.inputs["retentionInDays"] == 365
    assert group.protect
    assert trail.inputs["cloudWatchLogsGroupArn"] == f"{group.outputs['arn']}:*"
    assert trail.inputs["cloudWatchLogsRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    principals = [s["Principal"] for s in trust["Statement"] if s["Effect"] == "Allow"]
    assert principals == [{"Service": "cloudtrail.amazonaws.com"}]


def test_only_this_trail_can_assume_the_delivery_role(management):
    trust = json.loads(
        management.one("aws:iam/role:Role", "organization-trail-cloudwatch-delivery").inputs[
            "assumeRolePolicy"
        ]
    )

    def assume(source_arn: str, source_account: str = MANAGEMENT_ACCOUNT) -> str:
        context = {"aws:SourceArn": source_arn, "aws:SourceAccount": source_account}
        return evaluate(
            trust,
            Request("sts:AssumeRole", "*", service="cloudtrail.amazonaws.com", context=context),
        )

    assert assume(TRAIL_ARN) == ALLOW
    assert assume(TRAIL_ARN.replace("org-trail", "other")) == IMPLICIT_DENY
    assert assume(TRAIL_ARN, source_account=MEMBER_ACCOUNT) == IMPLICIT_DENY


def test_log_group_is_encrypted_with_a_key_of_its_own_unless_one_is_configured(management):
    group = management.one("aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group")
    key = next(r for r in management.of_type("aws:kms/key:Key") if r.name.endswith("log-group-key"))
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.protect and key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    log_group = f"arn:aws:logs:us-east-1:{MANAGEMENT_ACCOUNT}:log-group:/aws/cloudtrail/org-trail"

    def logs(action: str, group_arn: str) -> str:
        context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
        return evaluate(
            policy, Request(action, "*", service="logs.us-east-1.amazonaws.com", context=context)
        )

    assert logs("kms:GenerateDataKey", log_group) == ALLOW
    assert logs("kms:GenerateDataKey", log_group.replace("org-trail", "other")) == IMPLICIT_DENY


def test_trail_waits_for_the_delivery_role_policy(management):
    trail = management.one(TRAIL)
    role_policy = management.one(
        "aws:iam/rolePolicy:RolePolicy", "organization-trail-cloudwatch-delivery"
    )
    assert role_policy.urn in trail.dependencies


def test_delivery_role_may_write_only_the_documented_streams(management):
    policy = policy_of(
        management.one("aws:iam/rolePolicy:RolePolicy", "organization-trail-cloudwatch-delivery")
    )
    group = f"arn:aws:logs:us-east-1:{MANAGEMENT_ACCOUNT}:log-group:/aws/cloudtrail/org-trail"

    def put(stream: str, action: str = "logs:PutLogEvents", log_group: str = group) -> str:
        statement_policy = {"Statement": [{**s, "Principal": "*"} for s in policy["Statement"]]}
        return evaluate(statement_policy, Request(action, f"{log_group}:log-stream:{stream}"))

    assert put(f"{MANAGEMENT_ACCOUNT}_CloudTrail_us-east-1_0") == ALLOW
    assert (
        put(f"{ORGANIZATION_ID}_{MEMBER_ACCOUNT}_CloudTrail_eu-west-1", "logs:CreateLogStream")
        == ALLOW
    )
    assert put("someone_else") == IMPLICIT_DENY
    assert (
        put(f"{ORGANIZATION_ID}_x", log_group=group.replace("org-trail", "other")) == IMPLICIT_DENY
    )
    assert put(f"{ORGANIZATION_ID}_x", action="logs:DeleteLogGroup") == IMPLICIT_DENY


def test_management_stack_exports_trail_and_log_group(management):
    assert management.exports["trailArn"] == TRAIL_ARN
    assert (
        management.exports["logGroupArn"]
        == management.one(
            "aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group"
        ).outputs["arn"]
    )


def test_log_group_retention_and_key_come_from_config():
    key = f"arn:aws:kms:us-east-1:{MANAGEMENT_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    sim = run_management(management_config(logRetentionDays=731, logGroupKmsKeyArn=key))
    group = sim.one("aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group")
    assert group.inputs["retentionInDays"] == 731
    assert group.inputs["kmsKeyId"] == key


# --- legacy trails ----------------------------------------------------------------


LEGACY = [
    {
        "accountId": MEMBER_ACCOUNT,
        "region": "eu-west-1",
        "trailName": "default",
        "bucket": "payments-trail",
        "bucketRegion": "eu-west-1",
    },
    {
        "accountId": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "trailName": "default-us",
        "bucket": "payments-trail",
        "bucketRegion": "eu-west-1",
    },
    {
        "accountId": OTHER_MEMBER_ACCOUNT,
        "region": "us-west-2",
        "trailName": "audit",
        "bucket": "data-audit",
        "prefix": "audit",
        "roleName": "SecurityAudit",
        "bucketRegion": "us-east-2",
    },
    {
        "accountId": MANAGEMENT_ACCOUNT,
        "region": "us-east-1",
        "trailName": "old",
        "bucket": "mgmt-trail",
    },
]


@pytest.fixture(scope=shared("module"))
def legacy(security):
    return run_management(management_config(legacyTrails=LEGACY), security_exports=security.exports)


def lifecycle_of(sim, bucket: str):
    (found,) = [r for r in sim.of_type(LIFECYCLE) if r.inputs["bucket"] == bucket]
    return found


def test_legacy_buckets_move_to_glacier_and_are_never_expired_by_default(legacy):
    rule = lifecycle_of(legacy, "payments-trail").inputs["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": "AWSLogs/"}
    assert rule["transitions"] == [{"days": 30, "storageClass": "GLACIER"}]
    assert rule["noncurrentVersionTransitions"] == [
        {"noncurrentDays": 30, "storageClass": "GLACIER"}
    ]
    assert "expiration" not in rule
    assert "noncurrentVersionExpiration" not in rule


def test_legacy_lifecycle_is_retained_when_removed_from_config(legacy):
    assert all(r.retain_on_delete for r in legacy.of_type(LIFECYCLE))


def test_one_lifecycle_configuration_per_legacy_bucket(legacy):
    assert sorted(r.inputs["bucket"] for r in legacy.of_type(LIFECYCLE)) == [
        "data-audit",
        "mgmt-trail",
        "payments-trail",
    ]


def test_legacy_rules_cover_the_trail_prefix_and_the_bucket_region(legacy):
    audit = lifecycle_of(legacy, "data-audit")
    assert [r["filter"]["prefix"] for r in audit.inputs["rules"]] == ["audit/AWSLogs/"]
    assert audit.inputs["region"] == "us-east-2"
    assert audit.inputs["expectedBucketOwner"] == OTHER_MEMBER_ACCOUNT


def test_member_buckets_are_reached_through_one_assumed_role_provider_per_account(legacy):
    providers = {r.name: r for r in legacy.of_type("pulumi:providers:aws")}
    assert set(providers) == {f"legacy-{MEMBER_ACCOUNT}", f"legacy-{OTHER_MEMBER_ACCOUNT}"}
    audit = providers[f"legacy-{OTHER_MEMBER_ACCOUNT}"]
    assert (
        json.loads(audit.inputs["assumeRoles"])[0]["roleArn"]
        == f"arn:aws:iam::{OTHER_MEMBER_ACCOUNT}:role/SecurityAudit"
    )
    assert json.loads(audit.inputs["allowedAccountIds"]) == [OTHER_MEMBER_ACCOUNT]
    assert lifecycle_of(legacy, "data-audit").provider.startswith(audit.urn)


def test_a_bucket_shared_across_accounts_is_archived_once_through_its_owners_provider(security):
    central = {"bucket": "central-trails", "bucketAccountId": OTHER_MEMBER_ACCOUNT}
    legacy = [
        {"accountId": MEMBER_ACCOUNT, "region": "eu-west-1", "trailName": "a", **central},
        {"accountId": MANAGEMENT_ACCOUNT, "region": "eu-west-1", "trailName": "b", **central},
    ]
    for trail in legacy:
        trail.update(bucketRegion="eu-central-1", trailName=f"trail-{trail['trailName']}")
    sim = run_management(management_config(legacyTrails=legacy), security.exports)
    (lifecycle,) = sim.of_type(LIFECYCLE)
    assert lifecycle.inputs["bucket"] == "central-trails"
    assert lifecycle.inputs["expectedBucketOwner"] == OTHER_MEMBER_ACCOUNT
    assert lifecycle.inputs["region"] == "eu-central-1"
    (provider,) = sim.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [OTHER_MEMBER_ACCOUNT]
    assert lifecycle.provider.startswith(provider.urn)


def member_role_arn(security, config: dict, preview: bool) -> str:
    sim = simulate(
        "management",
        config,
        caller_account_id=MANAGEMENT_ACCOUNT,
        stack_outputs={SECURITY_STACK: security.exports},
        preview=preview,
    )
    (provider,) = sim.of_type("pulumi:providers:aws")
    return json.loads(provider.inputs["assumeRoles"])[0]["roleArn"]


DEPLOYING_ROLE = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/OrganizationAccountAccessRole"
PREVIEW_ROLE = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/OrgTrailPreview"


def test_the_preview_pulumi_up_runs_uses_the_deploying_roles(security, monkeypatch):
    """`pulumi up` previews before it asks: that diff must be the one applied."""
    monkeypatch.delenv(READ_ONLY_PREVIEW, raising=False)
    config = management_config(legacyTrails=LEGACY[:1], memberPreviewRoleName="OrgTrailPreview")
    assert member_role_arn(security, config, preview=True) == DEPLOYING_ROLE
    assert member_role_arn(security, config, preview=False) == DEPLOYING_ROLE


def test_only_an_explicit_read_only_preview_assumes_the_preview_role(security, monkeypatch):
    monkeypatch.setenv(READ_ONLY_PREVIEW, "true")
    config = management_config(legacyTrails=LEGACY[:1], memberPreviewRoleName="OrgTrailPreview")
    assert member_role_arn(security, config, preview=True) == PREVIEW_ROLE
    monkeypatch.setenv(READ_ONLY_PREVIEW, "false")
    assert member_role_arn(security, config, preview=True) == DEPLOYING_ROLE


@pytest.mark.parametrize(
    ("value", "preview", "preview_role", "refusal"),
    [
        ("true", False, "OrgTrailPreview", "is for `pulumi preview` only"),
        ("true", True, "", "needs org-trail:memberPreviewRoleName"),
        ("yes", True, "OrgTrailPreview", "set it to true or false"),
    ],
)
def test_a_read_only_preview_that_cannot_hold_is_refused(
    security, monkeypatch, value, preview, preview_role, refusal
):
    monkeypatch.setenv(READ_ONLY_PREVIEW, value)
    config = management_config(legacyTrails=LEGACY[:1], memberPreviewRoleName=preview_role)
    with pytest.raises(pulumi.RunError, match=f"{READ_ONLY_PREVIEW}.*{re.escape(refusal)}"):
        member_role_arn(security, config, preview=preview)


def test_management_account_legacy_bucket_uses_the_stack_credentials(legacy):
    assert lifecycle_of(legacy, "mgmt-trail").provider == ""


def test_legacy_expiration_is_applied_only_when_configured(security):
    archive = {"archiveAfterDays": 10, "storageClass": "DEEP_ARCHIVE", "expireAfterDays": 3650}
    sim = run_management(
        management_config(legacyTrails=LEGACY[:1], legacyArchive=archive), security.exports
    )
    rule = lifecycle_of(sim, "payments-trail").inputs["rules"][0]
    assert rule["transitions"] == [{"days": 10, "storageClass": "DEEP_ARCHIVE"}]
    assert rule["expiration"] == {"days": 3650}


def test_no_legacy_trails_no_archive_component(management):
    assert not management.of_type("org-trail:legacy_trail_archive:LegacyTrailArchive")
    assert not management.of_type(LIFECYCLE)


# --- guard rails --------------------------------------------------------------------


def test_wrong_credentials_stop_the_program_before_any_resource(security, registrations):
    with pytest.raises(
        pulumi.RunError,
        match=f"credentials of account {MANAGEMENT_ACCOUNT}.*belong to {MEMBER_ACCOUNT}",
    ):
        run_management(security_exports=security.exports, caller=MEMBER_ACCOUNT)
    assert registrations == []


def test_a_security_stack_that_does_not_exist_stops_before_anything_is_registered(
    security, registrations
):
    with pytest.raises(KeyError, match="unknown stack 'acme/other'"):
        run_management(management_config(securityStack="acme/other"), security.exports)
    assert registrations == []  # the reference is a read; nothing was registered


def test_missing_security_outputs_name_the_first_step(security):
    exports = {k: v for k, v in security.exports.items() if k != "kmsKeyArn"}
    with pytest.raises(pulumi.RunError, match=r"no output 'kmsKeyArn'.*pulumi up -s security"):
        run_management(security_exports=exports)


def as_api(selector: dict) -> dict:
    """A selector as the program registers it (the provider's camelCase inputs) in the shape
    CloudTrail's API answers with."""
    operators = {
        "equals": "Equals",
        "startsWiths": "StartsWith",
        "endsWiths": "EndsWith",
        "notEquals": "NotEquals",
        "notStartsWiths": "NotStartsWith",
        "notEndsWiths": "NotEndsWith",
    }
    fields = [
        {"Field": f["field"], **{operators[k]: v for k, v in f.items() if k in operators}}
        for f in selector["fieldSelectors"]
    ]
    return {"Name": selector["name"], "FieldSelectors": fields}


def test_network_activity_events_of_the_sources_asked_for_are_recorded():
    config = management_config(
        dataEvents={"networkActivity": ["ec2.amazonaws.com", "kms.amazonaws.com"]}
    )
    trail = run_management(config).one(TRAIL)
    selectors = selectors_by_name(trail)
    assert selectors["Network activity events of ec2.amazonaws.com"] == [
        {"field": "eventCategory", "equals": ["NetworkActivity"]},
        {"field": "eventSource", "equals": ["ec2.amazonaws.com"]},
    ]
    assert "Network activity events of kms.amazonaws.com" in selectors
    assert not any(
        name.startswith("Network") for name in selectors_by_name(run_management().one(TRAIL))
    )


def test_the_trail_the_stack_deploys_is_read_whole_and_records_what_verify_expects():
    """The program's selectors, read as cutover and verify read CloudTrail's answer: every one
    understood, and every management, S3 (its log buckets' writes aside), Lambda and network
    activity event of the configured sources recorded."""
    config = management_config(dataEvents={"networkActivity": ["ec2.amazonaws.com"]})
    registered = run_management(config).one(TRAIL).inputs["advancedEventSelectors"]
    found = read_selectors({"AdvancedEventSelectors": [as_api(s) for s in registered]})
    assert found.unreadable == []
    expected = read_selectors(
        {
            "AdvancedEventSelectors": [
                documents.management(),
                documents.data("AWS::S3::Object"),
                documents.data("AWS::Lambda::Function"),
                documents.network("ec2.amazonaws.com"),
            ]
        }
    )
    own_buckets = (f"arn:aws:s3:::{LOG_BUCKET}/", f"arn:aws:s3:::{ACCESS_LOG_BUCKET}/")
    assert gaps(expected.read, found.read, "aws", own_buckets) == []
    assert [g.text for g in gaps(expected.read, found.read, "aws")] == [
        f"write AWS::S3::Object data events under arn:aws:s3:::{LOG_BUCKET}/",
        f"write AWS::S3::Object data events under arn:aws:s3:::{ACCESS_LOG_BUCKET}/",
    ]
