"""The security stack: KMS key, locked log bucket, its access-log bucket, their policies."""

import pytest

from orgtrail.policy_eval import ALLOW, DENY, IMPLICIT_DENY, Request, evaluate
from tests.support.policy import unconditioned_public_allows
from tests.support.scopes import shared
from tests.support.stacks import (
    ACCESS_LOG_BUCKET,
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    OTHER_MEMBER_ACCOUNT,
    SECURITY_ACCOUNT,
    TRAIL_ARN,
    part_of_bucket,
    policy_of,
    run_security,
    security_config,
)

BUCKET_ARN = f"arn:aws:s3:::{LOG_BUCKET}"
ORG_LOG = f"{BUCKET_ARN}/AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/x.json.gz"
MANAGEMENT_LOG = (
    f"{BUCKET_ARN}/AWSLogs/{MANAGEMENT_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/x.json.gz"
)
TLS = {"aws:SecureTransport": "true"}


def cloudtrail_put(
    resource: str, source_arn: str = TRAIL_ARN, acl: str | None = "bucket-owner-full-control"
):
    context = {**TLS, "aws:SourceArn": source_arn}
    if acl:
        context["s3:x-amz-acl"] = acl
    return Request("s3:PutObject", resource, service="cloudtrail.amazonaws.com", context=context)


def member(account: str, action: str, resource: str, org: str = ORGANIZATION_ID, **context):
    return Request(
        action,
        resource,
        principal_arn=f"arn:aws:iam::{account}:role/auditor",
        context={**TLS, "aws:PrincipalAccount": account, "aws:PrincipalOrgID": org, **context},
    )


@pytest.fixture(scope=shared("module"))
def bucket_policy(security):
    (policy,) = part_of_bucket(security, LOG_BUCKET, "aws:s3/bucketPolicy:BucketPolicy")
    return policy_of(policy)


@pytest.fixture(scope=shared("module"))
def key_policy(security):
    return policy_of(security.one("aws:kms/key:Key"))


# --- bucket -------------------------------------------------------------------


def test_log_bucket_is_created_with_object_lock_and_is_never_force_destroyed(security):
    (bucket,) = part_of_bucket(security, LOG_BUCKET, "aws:s3/bucket:Bucket")
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.protect


def test_log_bucket_default_retention_comes_from_object_lock_config(security):
    (lock,) = part_of_bucket(
        security, LOG_BUCKET, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
    )
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 400}
    (versioning,) = part_of_bucket(security, LOG_BUCKET, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    assert versioning.urn in lock.dependencies, "retention needs versioning in place first"


def test_log_bucket_encrypts_with_the_trail_key_and_a_bucket_key(security):
    (encryption,) = part_of_bucket(
        security,
        LOG_BUCKET,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": security.exports["kmsKeyArn"],
    }
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("bucket", [LOG_BUCKET, ACCESS_LOG_BUCKET])
def test_every_bucket_blocks_all_public_access_and_disables_acls(security, bucket):
    (block,) = part_of_bucket(
        security, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    )
    for setting in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[setting] is True, setting
    (ownership,) = part_of_bucket(
        security, bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    )
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (policy,) = part_of_bucket(security, bucket, "aws:s3/bucketPolicy:BucketPolicy")
    assert block.urn in policy.dependencies


def test_log_bucket_archives_but_never_expires_unless_asked(security):
    (lifecycle,) = part_of_bucket(
        security, LOG_BUCKET, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    (rule,) = lifecycle.inputs["rules"]
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    assert rule["noncurrentVersionTransitions"] == [
        {"noncurrentDays": 90, "storageClass": "GLACIER_IR"}
    ]
    assert "expiration" not in rule


def test_log_bucket_expiration_when_configured_is_applied(security):
    sim = run_security(security_config(lifecycle={"archiveAfterDays": 30, "expireAfterDays": 400}))
    (lifecycle,) = part_of_bucket(
        sim, LOG_BUCKET, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 400}


def test_log_bucket_sends_server_access_logs_to_the_separate_bucket(security):
    (logging,) = part_of_bucket(security, LOG_BUCKET, "aws:s3/bucketLogging:BucketLogging")
    assert logging.inputs["targetBucket"] == ACCESS_LOG_BUCKET
    assert logging.inputs["targetPrefix"] == f"{LOG_BUCKET}/"


def test_access_log_bucket_has_no_object_lock_so_s3_delivers_to_it_and_uses_sse_s3(security):
    # S3 user guide, Object Lock considerations: no server access logs into a locked bucket.
    (bucket,) = part_of_bucket(security, ACCESS_LOG_BUCKET, "aws:s3/bucket:Bucket")
    assert bucket.inputs["objectLockEnabled"] is False
    assert bucket.protect
    (versioning,) = part_of_bucket(
        security, ACCESS_LOG_BUCKET, "aws:s3/bucketVersioning:BucketVersioning"
    )
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    (block,) = part_of_bucket(
        security, ACCESS_LOG_BUCKET, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    )
    assert all(
        block.inputs[setting]
        for setting in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    assert not part_of_bucket(
        security,
        ACCESS_LOG_BUCKET,
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    )
    (encryption,) = part_of_bucket(
        security,
        ACCESS_LOG_BUCKET,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }


def test_access_log_bucket_accepts_delivery_only_from_the_log_bucket(security):
    (resource,) = part_of_bucket(security, ACCESS_LOG_BUCKET, "aws:s3/bucketPolicy:BucketPolicy")
    policy = policy_of(resource)
    target = f"arn:aws:s3:::{ACCESS_LOG_BUCKET}/{LOG_BUCKET}/2026-11-27-00-00-00-ABC"

    def delivery(source_bucket: str, account: str = SECURITY_ACCOUNT) -> Request:
        context = {
            **TLS,
            "aws:SourceArn": f"arn:aws:s3:::{source_bucket}",
            "aws:SourceAccount": account,
        }
        return Request("s3:PutObject", target, service="logging.s3.amazonaws.com", context=context)

    assert evaluate(policy, delivery(LOG_BUCKET)) == ALLOW
    assert evaluate(policy, delivery("someone-elses-bucket")) == IMPLICIT_DENY
    assert evaluate(policy, delivery(LOG_BUCKET, account=MEMBER_ACCOUNT)) == IMPLICIT_DENY


# --- bucket policy, evaluated ---------------------------------------------------


@pytest.mark.parametrize("resource", [ORG_LOG, MANAGEMENT_LOG])
def test_bucket_policy_lets_this_trail_write_both_documented_prefixes(bucket_policy, resource):
    assert evaluate(bucket_policy, cloudtrail_put(resource)) == ALLOW


def test_bucket_policy_lets_cloudtrail_check_the_acl_of_this_trail_only(bucket_policy):
    check = Request(
        "s3:GetBucketAcl",
        BUCKET_ARN,
        service="cloudtrail.amazonaws.com",
        context={**TLS, "aws:SourceArn": TRAIL_ARN},
    )
    assert evaluate(bucket_policy, check) == ALLOW
    other = Request(
        "s3:GetBucketAcl",
        BUCKET_ARN,
        service="cloudtrail.amazonaws.com",
        context={**TLS, "aws:SourceArn": TRAIL_ARN.replace(MANAGEMENT_ACCOUNT, MEMBER_ACCOUNT)},
    )
    assert evaluate(bucket_policy, other) == IMPLICIT_DENY


@pytest.mark.parametrize(
    "source_arn",
    [
        TRAIL_ARN.replace("org-trail", "another-trail"),
        TRAIL_ARN.replace("us-east-1", "eu-west-1"),
        TRAIL_ARN.replace(MANAGEMENT_ACCOUNT, MEMBER_ACCOUNT),
    ],
)
def test_bucket_policy_refuses_any_other_trail(bucket_policy, source_arn):
    assert evaluate(bucket_policy, cloudtrail_put(ORG_LOG, source_arn=source_arn)) == IMPLICIT_DENY


def test_bucket_policy_requires_bucket_owner_full_control(bucket_policy):
    assert evaluate(bucket_policy, cloudtrail_put(ORG_LOG, acl=None)) == IMPLICIT_DENY
    assert evaluate(bucket_policy, cloudtrail_put(ORG_LOG, acl="public-read")) == IMPLICIT_DENY


@pytest.mark.parametrize(
    "key",
    [
        "elsewhere/x.json.gz",
        # Siblings of the two documented prefixes: all of AWSLogs/, another account's own
        # prefix, another organisation's, and names that only start like them.
        "AWSLogs/x.json.gz",
        f"AWSLogs/{OTHER_MEMBER_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/x.json.gz",
        "AWSLogs/o-zzzzzzzzzz/x.json.gz",
        f"AWSLogs/{MANAGEMENT_ACCOUNT}0/x.json.gz",
        f"AWSLogs/{ORGANIZATION_ID}x/x.json.gz",
    ],
)
def test_bucket_policy_lets_cloudtrail_write_nowhere_else(bucket_policy, key):
    assert evaluate(bucket_policy, cloudtrail_put(f"{BUCKET_ARN}/{key}")) == IMPLICIT_DENY


def test_bucket_policy_denies_requests_without_tls_even_from_cloudtrail(bucket_policy):
    request = cloudtrail_put(ORG_LOG)
    plain = Request(
        request.action,
        request.resource,
        service=request.service,
        context={**request.context, "aws:SecureTransport": "false"},
    )
    assert evaluate(bucket_policy, plain) == DENY


def test_bucket_policy_lets_members_read_only_their_own_prefix(bucket_policy):
    own = f"{BUCKET_ARN}/AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/CloudTrail/eu-west-1/2026/11/27/a.json.gz"
    theirs = own.replace(MEMBER_ACCOUNT, OTHER_MEMBER_ACCOUNT)
    assert evaluate(bucket_policy, member(MEMBER_ACCOUNT, "s3:GetObject", own)) == ALLOW
    assert evaluate(bucket_policy, member(MEMBER_ACCOUNT, "s3:GetObject", theirs)) == IMPLICIT_DENY
    assert (
        evaluate(bucket_policy, member(MEMBER_ACCOUNT, "s3:GetObject", MANAGEMENT_LOG))
        == IMPLICIT_DENY
    )


def test_bucket_policy_lets_members_list_only_their_own_prefix(bucket_policy):
    own_prefix = f"AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/CloudTrail/"
    other_prefix = own_prefix.replace(MEMBER_ACCOUNT, OTHER_MEMBER_ACCOUNT)
    assert (
        evaluate(
            bucket_policy,
            member(MEMBER_ACCOUNT, "s3:ListBucket", BUCKET_ARN, **{"s3:prefix": own_prefix}),
        )
        == ALLOW
    )
    assert (
        evaluate(
            bucket_policy,
            member(MEMBER_ACCOUNT, "s3:ListBucket", BUCKET_ARN, **{"s3:prefix": other_prefix}),
        )
        == IMPLICIT_DENY
    )
    assert (
        evaluate(bucket_policy, member(MEMBER_ACCOUNT, "s3:ListBucket", BUCKET_ARN))
        == IMPLICIT_DENY
    )


def test_bucket_policy_gives_nothing_outside_the_organisation(bucket_policy):
    own = f"{BUCKET_ARN}/AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/a.json.gz"
    outsider = member(MEMBER_ACCOUNT, "s3:GetObject", own, org="o-zzzzzzzzzz")
    assert evaluate(bucket_policy, outsider) == IMPLICIT_DENY


def test_bucket_policy_lets_members_neither_write_nor_delete(bucket_policy):
    own = f"{BUCKET_ARN}/AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/CloudTrail/us-east-1/2026/11/27/a.json.gz"
    for action in (
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutBucketPolicy",
    ):
        assert evaluate(bucket_policy, member(MEMBER_ACCOUNT, action, own)) == IMPLICIT_DENY, action


def test_no_policy_allows_everyone_without_a_condition(security):
    for resource in [
        *security.of_type("aws:s3/bucketPolicy:BucketPolicy"),
        security.one("aws:kms/key:Key"),
    ]:
        assert list(unconditioned_public_allows(policy_of(resource))) == [], resource.name


# --- key ------------------------------------------------------------------------------


def test_trail_key_rotates_and_is_protected(security):
    key = security.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect
    alias = security.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/org-trail"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def cloudtrail_kms(
    action: str, source_arn: str = TRAIL_ARN, trail_context: str | None = TRAIL_ARN
) -> Request:
    context = {"aws:SourceArn": source_arn}
    if trail_context:
        context["kms:EncryptionContext:aws:cloudtrail:arn"] = trail_context
    return Request(action, "*", service="cloudtrail.amazonaws.com", context=context)


def test_key_policy_lets_this_trail_encrypt_and_describe(key_policy):
    assert evaluate(key_policy, cloudtrail_kms("kms:GenerateDataKey")) == ALLOW
    assert evaluate(key_policy, cloudtrail_kms("kms:GenerateDataKeyWithoutPlaintext")) == ALLOW
    assert evaluate(key_policy, cloudtrail_kms("kms:DescribeKey", trail_context=None)) == ALLOW
    # The S3 Bucket Key case.
    assert evaluate(key_policy, cloudtrail_kms("kms:Decrypt")) == ALLOW


def test_key_policy_refuses_other_trails_and_other_contexts(key_policy):
    other_trail = TRAIL_ARN.replace("org-trail", "rogue")
    assert (
        evaluate(key_policy, cloudtrail_kms("kms:GenerateDataKey", source_arn=other_trail))
        == IMPLICIT_DENY
    )
    foreign_context = TRAIL_ARN.replace(MANAGEMENT_ACCOUNT, MEMBER_ACCOUNT)
    assert (
        evaluate(key_policy, cloudtrail_kms("kms:GenerateDataKey", trail_context=foreign_context))
        == IMPLICIT_DENY
    )
    assert (
        evaluate(key_policy, cloudtrail_kms("kms:GenerateDataKey", trail_context=None))
        == IMPLICIT_DENY
    )
    assert evaluate(key_policy, cloudtrail_kms("kms:ScheduleKeyDeletion")) == IMPLICIT_DENY


def test_key_policy_lets_organisation_members_decrypt_log_files_only(key_policy):
    with_context = {
        "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL_ARN,
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    assert evaluate(key_policy, member(MEMBER_ACCOUNT, "kms:Decrypt", "*", **with_context)) == ALLOW
    assert evaluate(key_policy, member(MEMBER_ACCOUNT, "kms:Decrypt", "*")) == IMPLICIT_DENY
    # Only through S3 in the bucket's region, and never to re-encrypt under another key.
    direct = {**with_context, "kms:ViaService": "ec2.us-east-1.amazonaws.com"}
    assert (
        evaluate(key_policy, member(MEMBER_ACCOUNT, "kms:Decrypt", "*", **direct)) == IMPLICIT_DENY
    )
    assert (
        evaluate(key_policy, member(MEMBER_ACCOUNT, "kms:ReEncryptFrom", "*", **with_context))
        == IMPLICIT_DENY
    )
    assert (
        evaluate(
            key_policy,
            member(MEMBER_ACCOUNT, "kms:Decrypt", "*", org="o-zzzzzzzzzz", **with_context),
        )
        == IMPLICIT_DENY
    )
    assert (
        evaluate(key_policy, member(MEMBER_ACCOUNT, "kms:PutKeyPolicy", "*", **with_context))
        == IMPLICIT_DENY
    )


def test_key_policy_keeps_the_security_account_as_administrator(key_policy):
    admin = Request(
        "kms:PutKeyPolicy", "*", principal_arn=f"arn:aws:iam::{SECURITY_ACCOUNT}:role/admin"
    )
    assert evaluate(key_policy, admin) == ALLOW


# --- stack --------------------------------------------------------------------------


def test_security_stack_exports_what_the_management_stack_reads(security):
    assert security.exports["logBucketName"] == LOG_BUCKET
    assert security.exports["logBucketArn"] == BUCKET_ARN
    assert security.exports["accessLogBucketName"] == ACCESS_LOG_BUCKET
    assert security.exports["kmsKeyArn"] == security.one("aws:kms/key:Key").outputs["arn"]
    assert security.exports["authorizedTrailArn"] == TRAIL_ARN


def test_default_bucket_names_are_derived_from_account_and_region():
    sim = run_security(security_config(logBucketName=None, accessLogBucketName=None))
    names = {r.inputs["bucket"] for r in sim.of_type("aws:s3/bucket:Bucket")}
    assert names == {
        f"org-trail-logs-{SECURITY_ACCOUNT}-us-east-1",
        f"org-trail-server-access-logs-{SECURITY_ACCOUNT}-us-east-1",
        f"org-trail-athena-results-{SECURITY_ACCOUNT}-us-east-1",
    }


def test_every_setting_that_keeps_a_bucket_private_or_locked_is_protected(security):
    guarded = (
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketLogging:BucketLogging",
    )
    found = [r for r in security.resources if r.type in guarded]
    assert len(found) >= 3 * 6
    assert [r.name for r in found if not r.protect] == []


def test_results_bucket_sends_its_access_logs_to_the_access_log_bucket(security):
    (logging,) = [
        r
        for r in security.of_type("aws:s3/bucketLogging:BucketLogging")
        if r.inputs["bucket"].startswith("org-trail-athena-results")
    ]
    assert logging.inputs["targetBucket"] == ACCESS_LOG_BUCKET
    (policy,) = part_of_bucket(security, ACCESS_LOG_BUCKET, "aws:s3/bucketPolicy:BucketPolicy")
    delivery = next(
        s for s in policy_of(policy)["Statement"] if s["Sid"] == "S3ServerAccessLogsDelivery"
    )
    sources = delivery["Condition"]["ArnLike"]["aws:SourceArn"]
    assert sorted(source.rsplit(":", 1)[-1] for source in sources) == sorted(
        [LOG_BUCKET, logging.inputs["bucket"]]
    )


def test_lifecycle_with_expiry_is_one_s3_accepts():
    sim = run_security(security_config(lifecycle={"archiveAfterDays": 90, "expireAfterDays": 2557}))
    for lifecycle in sim.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ):
        assert lifecycle.inputs["transitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
        for rule in lifecycle.inputs["rules"]:
            transitions = [
                t["noncurrentDays"] for t in rule.get("noncurrentVersionTransitions", [])
            ]
            expiry = rule.get("noncurrentVersionExpiration", {}).get("noncurrentDays")
            if expiry is not None:
                assert all(expiry > days for days in transitions), rule
