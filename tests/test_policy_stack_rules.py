"""Stack rules: a bucket's settings found through property dependencies or by name."""

import json

from orgtrail_policies import stack
from orgtrail_policies.policies import MANDATORY, resource_policy
from pulumi_policy import PolicyProviderResource, ResourceValidationArgs

from tests.support.policy import OPTIONS, UNKNOWN_STRING, proxied, resource

BUCKET = "aws:s3/bucket:Bucket"
V6_BUCKET = "aws:s3/bucketV2:BucketV2"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ALL_BLOCKED = dict.fromkeys(
    ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
)
TLS_ONLY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
)


def bucket(name, **props):
    return resource(BUCKET, name, {"bucket": name, "id": name, **props})


def flagged(resources, check) -> list[str]:
    findings, _ = stack.bucket_findings(resources, check)
    return [b.resource.name for b, _ in findings]


def test_block_is_matched_by_property_dependency_even_with_an_unknown_name():
    data = bucket("data")
    block = resource(
        BLOCK, "data-block", {"bucket": UNKNOWN_STRING, **ALL_BLOCKED}, {"bucket": [data]}
    )
    assert flagged([data, block], stack.missing_public_access_block) == []


def test_block_is_matched_by_bucket_name_across_programs():
    data = resource(V6_BUCKET, "data", {"bucket": "acme-data", "id": "acme-data"})
    block = resource(BLOCK, "block", {"bucket": "acme-data", **ALL_BLOCKED})
    assert flagged([data, block], stack.missing_public_access_block) == []


def test_bucket_without_a_block_is_named():
    data, other = bucket("data"), bucket("other")
    block = resource(BLOCK, "block", {"bucket": "other", **ALL_BLOCKED})
    ((found, problem),), _ = stack.bucket_findings(
        [data, other, block], stack.missing_public_access_block
    )
    assert found.resource.name == "data"
    assert "'data' has no public access block" in problem


def test_account_level_block_covers_buckets_of_the_same_provider_only():
    account = PolicyProviderResource("pulumi:providers:aws", {}, "urn:provider:a", "a")
    other = PolicyProviderResource("pulumi:providers:aws", {}, "urn:provider:b", "b")
    block = resource(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        "acct",
        ALL_BLOCKED,
        provider=account,
    )
    covered = resource(BUCKET, "covered", {"bucket": "covered"}, provider=account)
    elsewhere = resource(BUCKET, "elsewhere", {"bucket": "elsewhere"}, provider=other)
    assert flagged([block, covered, elsewhere], stack.missing_public_access_block) == ["elsewhere"]
    # A setting from an output the preview does not know yet: undecided, and said so.
    switch = resource("random:index/randomShuffle:RandomShuffle", "switch", {})
    pending = resource(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        "acct",
        {**ALL_BLOCKED, "restrictPublicBuckets": UNKNOWN_STRING},
        {"restrictPublicBuckets": [switch]},
        provider=account,
    )
    ((_, problem),), _ = stack.bucket_findings(
        [pending, switch, covered], stack.missing_public_access_block
    )
    assert (
        "cannot be judged before it is created (restrictPublicBuckets comes from switch" in problem
    )


def test_default_retention_from_a_lock_configuration_or_inline():
    separate, none = bucket("separate"), bucket("none")
    inline = bucket(
        "inline",
        objectLockConfiguration={
            "objectLockEnabled": "Enabled",
            "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 1}},
        },
    )
    config = resource(
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
        "lock",
        {"bucket": "separate", "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 30}}},
    )
    assert flagged([separate, inline, none, config], stack.missing_default_retention) == ["none"]


def test_access_log_targets_are_not_asked_for_retention_or_kms():
    source, target = bucket("source"), bucket("target")
    logging = resource(
        "aws:s3/bucketLogging:BucketLogging", "log", {"bucket": "source", "targetBucket": "target"}
    )
    resources = [source, target, logging]
    assert flagged(resources, stack.missing_default_retention) == ["source"]
    assert flagged(resources, stack.missing_kms_encryption) == ["source"]


def test_access_log_targets_are_not_asked_for_object_lock_and_the_reason_is_given():
    source, target, stray = bucket("source"), bucket("target"), bucket("stray")
    logging = resource(
        "aws:s3/bucketLogging:BucketLogging", "log", {"bucket": "source", "targetBucket": "target"}
    )
    findings, excused = stack.bucket_findings(
        [source, target, stray, logging],
        stack.missing_object_lock,
        stack.unlocked_access_log_target,
    )
    assert sorted(b.resource.name for b, _ in findings) == ["source", "stray"]
    assert [(b.resource.name, reason) for b, reason in excused] == [
        ("target", stack.ACCESS_LOG_TARGET_REASON)
    ]
    assert "Object Lock considerations" in stack.ACCESS_LOG_TARGET_REASON


def test_an_access_log_target_must_still_be_blocked():
    source, target = bucket("source", objectLockEnabled=True), bucket("target")
    logging = resource(
        "aws:s3/bucketLogging:BucketLogging", "log", {"bucket": "source", "targetBucket": "target"}
    )
    assert flagged([source, target, logging], stack.missing_public_access_block) == [
        "source",
        "target",
    ]


def test_kms_encryption_in_v6_v7_inline_and_native_shapes():
    rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]
    v7 = bucket("v7")
    v7_config = resource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "v7-sse",
        {"bucket": "v7", "rules": rules},
    )
    v6 = bucket("v6")
    v6_config = resource(
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "v6-sse",
        {
            "bucket": "v6",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms:dsse"}}],
        },
    )
    inline = bucket("inline", serverSideEncryptionConfiguration={"rule": rules[0]})
    native = resource(
        "aws-native:s3:Bucket",
        "native",
        {
            "bucketName": "native",
            "bucketEncryption": {
                "serverSideEncryptionConfiguration": [
                    {"serverSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}
                ]
            },
        },
    )
    sse_s3 = bucket("sse-s3")
    sse_s3_config = resource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "s3-sse",
        {
            "bucket": "sse-s3",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        },
    )
    resources = [v7, v7_config, v6, v6_config, inline, native, sse_s3, sse_s3_config]
    assert flagged(resources, stack.missing_kms_encryption) == ["sse-s3"]


def test_versioning_from_object_lock_or_a_versioning_resource():
    locked = bucket("locked", objectLockEnabled=True)
    versioned = bucket("versioned")
    versioning = resource(
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "v",
        {"bucket": "versioned", "versioningConfiguration": {"status": "Enabled"}},
    )
    suspended = bucket("suspended")
    suspension = resource(
        "aws:s3/bucketVersioning:BucketVersioning",
        "s",
        {"bucket": "suspended", "versioningConfiguration": {"status": "Suspended"}},
    )
    resources = [locked, versioned, versioning, suspended, suspension]
    assert flagged(resources, stack.missing_versioning) == ["suspended"]


def test_tls_only_needs_a_deny_on_insecure_transport():
    strict, lax = bucket("strict"), bucket("lax")
    strict_policy = resource(
        "aws:s3/bucketPolicy:BucketPolicy",
        "strict-policy",
        {"bucket": "strict", "policy": TLS_ONLY},
    )
    lax_policy = resource(
        "aws:s3/bucketPolicy:BucketPolicy", "lax-policy", {"bucket": "lax", "policy": "{not json"}
    )
    assert flagged([strict, lax, strict_policy, lax_policy], stack.missing_tls_only) == ["lax"]


def test_an_unknown_the_program_did_not_set_is_not_asked_for():
    # A preview's planned outputs: objectLockEnabled left unset is computed by the provider.
    computed = bucket("data", objectLockEnabled=UNKNOWN_STRING)
    assert flagged([computed], stack.missing_object_lock) == ["data"]
    # Versioning is advisory, and Object Lock being unknown says nothing of it either way.
    assert flagged([computed], stack.missing_versioning) == ["data"]


def test_an_unknown_set_from_another_output_is_undecided_and_said_so_when_mandatory():
    flag = resource("random:index/randomShuffle:RandomShuffle", "flag", {})
    pending = resource(
        BUCKET,
        "data",
        {"bucket": "data", "objectLockEnabled": UNKNOWN_STRING},
        {"objectLockEnabled": [flag]},
    )
    ((_, problem),), _ = stack.bucket_findings([pending, flag], stack.missing_object_lock)
    assert problem == (
        "Bucket 'data': whether it has Object Lock is not known before it is created "
        "(objectLockEnabled comes from flag, whose outputs are not known until it is created), "
        "so the preview cannot show it will be locked. Set objectLockEnabled: true on the "
        "bucket as a plain value."
    )
    # An advisory rule leaves out what it cannot decide.
    findings, _ = stack.bucket_findings([pending, flag], stack.missing_versioning, mandatory=False)
    assert findings == []


def test_an_unknown_name_never_hides_a_verdict():
    random = resource("random:index/randomPet:RandomPet", "suffix", {})
    nameless = resource(
        BUCKET, "data", {"bucket": UNKNOWN_STRING, "id": UNKNOWN_STRING}, {"bucket": [random]}
    )
    for check in (stack.missing_object_lock, stack.missing_public_access_block):
        ((_, problem),), _ = stack.bucket_findings([nameless, random], check)
        assert problem.startswith("Bucket 'data' has no")


def test_a_lock_configuration_enables_object_lock_on_an_existing_bucket():
    data = bucket("data")
    lock = resource(
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
        "data-lock",
        {"bucket": "data", "objectLockEnabled": "Enabled"},
    )
    assert flagged([data, lock], stack.missing_object_lock) == []
    assert flagged([data, lock], stack.missing_versioning) == ["data"]  # versioning is its own
    without = resource(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "data-lock",
        {"bucket": "data", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 1}}},
    )
    assert flagged([data, without], stack.missing_object_lock) == ["data"]
    native = resource(
        "aws-native:s3:Bucket",
        "native",
        {"objectLockConfiguration": {"objectLockEnabled": "Enabled"}},
    )
    assert flagged([native], stack.missing_object_lock) == []


def test_a_check_that_fails_on_one_bucket_is_that_buckets_violation_only():
    def fragile(index, found):
        if found.resource.name == "odd":
            raise TypeError("'list' object has no attribute 'get'")
        return stack.missing_public_access_block(index, found)

    findings, _ = stack.bucket_findings([bucket("odd"), bucket("plain")], fragile)
    problems = dict((b.resource.name, p) for b, p in findings)
    assert problems["odd"] == (
        "Bucket 'odd' could not be judged (TypeError: 'list' object has no attribute 'get')."
    )
    assert "has no public access block" in problems["plain"]


def test_a_resource_rule_that_fails_is_a_violation_of_that_rule():
    def fragile(resource_type, props, name):
        raise KeyError("Statement")

    reported = []
    policy = resource_policy("s3-no-public-bucket", "A rule.", fragile, MANDATORY)
    args = ResourceValidationArgs(BUCKET, proxied({}), "urn:x", "site", OPTIONS, None, {})
    policy.validate(args, lambda message, urn=None: reported.append(message))
    assert reported == [
        "'site' could not be judged (KeyError: 'Statement'), so it cannot be shown to comply. "
        "This is a fault in the pack or a shape it does not know: report it, with the "
        "resource's properties."
    ]


def test_a_part_from_two_buckets_outputs_configures_neither():
    one, two = bucket("one"), bucket("two")
    block = resource(
        BLOCK, "block", {"bucket": UNKNOWN_STRING, **ALL_BLOCKED}, {"bucket": [one, two]}
    )
    assert flagged([one, two, block], stack.missing_public_access_block) == ["one", "two"]


def test_a_v6_inline_log_target_not_known_yet_is_found_by_its_dependency():
    logs = resource(V6_BUCKET, "logs", {"bucket": UNKNOWN_STRING, "id": UNKNOWN_STRING})
    site = resource(
        V6_BUCKET,
        "site",
        {
            "bucket": "site",
            "objectLockEnabled": True,
            "loggings": [{"targetBucket": UNKNOWN_STRING}],
        },
        {"loggings": [logs]},
    )
    findings, excused = stack.bucket_findings(
        [logs, site], stack.missing_object_lock, stack.unlocked_access_log_target
    )
    assert findings == []
    assert [(b.resource.name, reason) for b, reason in excused] == [
        ("logs", stack.ACCESS_LOG_TARGET_REASON)
    ]


def test_an_inline_log_target_from_something_other_than_a_bucket_is_none():
    suffix = resource("random:index/randomPet:RandomPet", "suffix", {})
    site = resource(
        "aws-native:s3:Bucket",
        "site",
        {"loggingConfiguration": {"destinationBucketName": UNKNOWN_STRING}},
        {"loggingConfiguration": [suffix]},
    )
    assert flagged([suffix, site], stack.missing_object_lock) == ["site"]
