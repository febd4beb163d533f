"""The two stacks agree: the trail the security stack authorises is the trail the management stack creates."""

import json

import pulumi
import pytest

from orgtrail.contract.config import partition_of
from orgtrail.policy_eval import ALLOW, Request, evaluate
from tests.support.stacks import (
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_ACCOUNT,
    engine_config,
    part_of_bucket,
    policy_of,
    run_management,
    run_security,
    security_config,
)
from tests.support.stacks import MANAGEMENT as MANAGEMENT_VALUES
from tests.support.stacks import SECURITY as SECURITY_VALUES


def source_arns(policy: dict) -> set[str]:
    return {
        value
        for statement in policy["Statement"]
        for test in (statement.get("Condition") or {}).values()
        for key, value in test.items()
        if key == "aws:SourceArn" and "cloudtrail" in value
    }


def test_created_trail_is_the_one_bucket_and_key_policies_authorise(security, management):
    created = management.one("aws:cloudtrail/trail:Trail").outputs["arn"]
    (bucket_policy,) = part_of_bucket(security, LOG_BUCKET, "aws:s3/bucketPolicy:BucketPolicy")
    assert source_arns(policy_of(bucket_policy)) == {created}
    assert source_arns(policy_of(security.one("aws:kms/key:Key"))) == {created}
    assert management.exports["trailArn"] == created


def test_created_trail_may_deliver_with_the_exact_bucket_and_key_it_is_given(security, management):
    trail = management.one("aws:cloudtrail/trail:Trail")
    created = trail.outputs["arn"]
    (bucket_policy,) = part_of_bucket(
        security, trail.inputs["s3BucketName"], "aws:s3/bucketPolicy:BucketPolicy"
    )
    key = security.one("aws:kms/key:Key")
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    log_object = f"arn:aws:s3:::{trail.inputs['s3BucketName']}/AWSLogs/{ORGANIZATION_ID}/{SECURITY_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/f.json.gz"
    put = Request(
        "s3:PutObject",
        log_object,
        service="cloudtrail.amazonaws.com",
        context={
            "aws:SecureTransport": "true",
            "aws:SourceArn": created,
            "s3:x-amz-acl": "bucket-owner-full-control",
        },
    )
    assert evaluate(policy_of(bucket_policy), put) == ALLOW
    encrypt = Request(
        "kms:GenerateDataKey",
        "*",
        service="cloudtrail.amazonaws.com",
        context={"aws:SourceArn": created, "kms:EncryptionContext:aws:cloudtrail:arn": created},
    )
    assert evaluate(policy_of(key), encrypt) == ALLOW


def test_a_trail_the_security_stack_does_not_authorise_is_refused_before_anything_is_created(
    registrations,
):
    security = run_security(security_config(trailName="other-trail"))
    registrations.clear()
    with pytest.raises(
        pulumi.RunError,
        match=r"authorises trail .*trail/other-trail.*would create .*trail/org-trail",
    ):
        run_management(security_exports=security.exports)
    assert registrations == []


@pytest.mark.parametrize(
    ("region", "partition", "dns"),
    [
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("us-iso-east-1", "aws-iso", "c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"),
        ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
    ],
)
def test_other_partitions_carry_through_both_stacks(region, partition, dns):
    security = run_security(engine_config(SECURITY_VALUES, region=region))
    management = run_management(
        engine_config(MANAGEMENT_VALUES, region=region), security_exports=security.exports
    )
    expected = f"arn:{partition}:cloudtrail:{region}:{MANAGEMENT_ACCOUNT}:trail/org-trail"
    assert security.exports["authorizedTrailArn"] == expected
    assert management.exports["trailArn"] == expected
    assert security.exports["logBucketArn"].startswith(f"arn:{partition}:s3:::")
    # Members decrypt through this partition's S3 endpoint; Athena projects its regions.
    key_policy = json.loads(security.one("aws:kms/key:Key").inputs["policy"])
    members = next(
        s for s in key_policy["Statement"] if s["Sid"] == "OrganizationMembersDecryptLogs"
    )
    assert members["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{region}.{dns}"
    table = security.one("aws:glue/catalogTable:CatalogTable", "log-analysis-table")
    projected = table.inputs["parameters"]["projection.region.values"].split(",")
    assert region in projected
    assert all(partition_of(r) == partition for r in projected)


def test_security_stack_refuses_management_credentials(registrations):
    with pytest.raises(pulumi.RunError, match=f"credentials of account {SECURITY_ACCOUNT}"):
        run_security(caller=MANAGEMENT_ACCOUNT)
    assert registrations == []
