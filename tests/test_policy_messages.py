"""What each rule tells the person whose preview it stops: the resource and its bucket by name,
what is wrong, and how to fix it. One case per message the pack can send."""

import json

import pytest
from orgtrail_policies.about import ABOUT
from orgtrail_policies.buckets import (
    acl_problems,
    public_access_problems,
    trail_problems,
)
from orgtrail_policies.policies import policies

from tests.support.policy import InProcessPack, proxied
from tests.support.policy_corpus import V7, bucket, part

OPEN = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Open",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::data/*",
            }
        ],
    }
)
HALF = {
    "blockPublicAcls": True,
    "blockPublicPolicy": False,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": False,
}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
EVERYONE = (
    "allows everyone (statement Open) without a condition on who the caller is. Name the "
    "principals, or add a condition such as aws:PrincipalOrgID, aws:SourceArn or aws:SourceAccount."
)
HALF_OFF = (
    "leaves blockPublicPolicy, restrictPublicBuckets off. Set all four of blockPublicAcls, "
    "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets to true."
)
CANNED = "has the public canned ACL {!r}. Use 'private' (or no ACL at all)."
GRANT = "grants access to {}. Remove the grant; share through a bucket policy with conditions."

CASES = [
    (
        "aws:s3/bucket:Bucket",
        "site",
        {"bucket": "site-prod", "acl": "public-read"},
        [f"Bucket 'site' (bucket site-prod) {CANNED.format('public-read')}"],
    ),
    (
        "aws:s3/bucketV2:BucketV2",
        "site",
        {"bucket": "site", "grants": [{"type": "Group", "uri": ALL_USERS}]},
        [f"Bucket 'site' {GRANT.format('AllUsers')}"],
    ),
    (
        "aws:s3/bucket:Bucket",
        "site",
        {"policy": OPEN},
        [f"The inline policy of bucket 'site' {EVERYONE}"],
    ),
    (
        "aws:s3/bucket:Bucket",
        "site",
        {"policy": "{not json"},
        [
            "The inline policy of bucket 'site' is not valid JSON (Expecting property name enclosed "
            "in double quotes at line 1 column 2); a policy that cannot be read cannot be shown to "
            "be private. Fix the JSON."
        ],
    ),
    (
        "aws-native:s3:Bucket",
        "site",
        {
            "bucketName": "site-prod",
            "accessControl": "PublicRead",
            "publicAccessBlockConfiguration": HALF,
        },
        [
            "Bucket 'site' (bucket site-prod) has the public access control 'PublicRead'. Use 'Private'.",
            f"The publicAccessBlockConfiguration of bucket 'site' (bucket site-prod) {HALF_OFF}",
        ],
    ),
    (
        "aws-native:s3:Bucket",
        "site",
        {},
        [
            "Bucket 'site' has no publicAccessBlockConfiguration. Set blockPublicAcls, "
            "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets to true."
        ],
    ),
    (
        "aws:s3/bucketAclV2:BucketAclV2",
        "acl",
        {"bucket": "data", "acl": "public-read-write"},
        [f"ACL 'acl' of bucket data {CANNED.format('public-read-write')}"],
    ),
    (
        "aws:s3/bucketAclV2:BucketAclV2",
        "acl",
        {
            "bucket": "data",
            "accessControlPolicy": {
                "grants": [
                    {"grantee": {"type": "Group", "uri": AUTHENTICATED}, "permission": "READ"}
                ]
            },
        },
        [f"ACL 'acl' of bucket data {GRANT.format('AuthenticatedUsers')}"],
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "p",
        {"bucket": "data", "policy": OPEN},
        [f"Bucket policy 'p' of bucket data {EVERYONE}"],
    ),
    (
        "aws-native:s3:BucketPolicy",
        "p",
        {"bucket": "data", "policyDocument": json.loads(OPEN)},
        [f"Bucket policy 'p' of bucket data {EVERYONE}"],
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "p",
        {"policy": OPEN},
        [f"Bucket policy 'p' of bucket ? {EVERYONE}"],
    ),
    (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "b",
        {"bucket": "data", **HALF},
        [f"Public access block 'b' of bucket data {HALF_OFF}"],
    ),
    (
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        "account",
        HALF,
        [f"Account-level public access block 'account' {HALF_OFF}"],
    ),
    (
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "index",
        {"bucket": "data", "acl": "public-read"},
        [f"Object 'index' in bucket data {CANNED.format('public-read')}"],
    ),
    (
        "aws:s3/bucketObject:BucketObject",
        "index",
        {"bucket": "data", "grants": [{"type": "Group", "uri": ALL_USERS}]},
        [f"Object 'index' in bucket data {GRANT.format('AllUsers')}"],
    ),
    (
        "aws:s3/accessPoint:AccessPoint",
        "ap",
        {"bucket": "data", "policy": OPEN, "publicAccessBlockConfiguration": HALF},
        [
            f"The policy of access point 'ap' of bucket data {EVERYONE}",
            f"The publicAccessBlockConfiguration of access point 'ap' of bucket data {HALF_OFF}",
        ],
    ),
    (
        "aws:s3control/accessPointPolicy:AccessPointPolicy",
        "app",
        {"accessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/ap", "policy": OPEN},
        [
            "Access point policy 'app' of arn:aws:s3:us-east-1:111111111111:accesspoint/ap "
            + EVERYONE
        ],
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "p",
        {"bucket": "data", "policy": OPEN.replace('"Sid": "Open", ', "")},
        [
            f"Bucket policy 'p' of bucket data {EVERYONE.replace('statement Open', 'statement without Sid')}"
        ],
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "p",
        {"bucket": "data", "policy": "[]"},
        [
            "Bucket policy 'p' of bucket data is not a JSON object; a policy that cannot be read "
            "cannot be shown to be private. Fix the JSON."
        ],
    ),
    (
        "aws:s3/bucketPolicy:BucketPolicy",
        "p",
        {"bucket": "data", "policy": '{"Statement": 3}'},
        [
            "Bucket policy 'p' of bucket data has no list of Statement objects; a policy that "
            "cannot be read cannot be shown to be private. Fix the JSON."
        ],
    ),
    ("aws:s3/bucketPolicy:BucketPolicy", "p", {"bucket": "data", "policy": ""}, []),
    (
        "aws:s3/bucketAclV2:BucketAclV2",
        "acl",
        {"acl": "public-read"},
        [f"ACL 'acl' of bucket ? {CANNED.format('public-read')}"],
    ),
    (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "b",
        HALF,
        [f"Public access block 'b' of bucket ? {HALF_OFF}"],
    ),
    (
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "index",
        {"acl": "public-read"},
        [f"Object 'index' in bucket ? {CANNED.format('public-read')}"],
    ),
    (
        "aws:s3/accessPoint:AccessPoint",
        "ap",
        {"policy": OPEN},
        [f"The policy of access point 'ap' of bucket ? {EVERYONE}"],
    ),
    (
        "aws:s3control/accessPointPolicy:AccessPointPolicy",
        "app",
        {"policy": OPEN},
        [f"Access point policy 'app' of ? {EVERYONE}"],
    ),
]


@pytest.mark.parametrize(
    ("resource_type", "name", "props", "messages"),
    CASES,
    ids=[f"{case[0].rpartition(':')[2]}-{index}" for index, case in enumerate(CASES)],
)
def test_public_access_messages(resource_type, name, props, messages):
    assert public_access_problems(resource_type, proxied(props), name) == messages


ACLS_ON = (
    "which turns ACLs back on. Use BucketOwnerEnforced (ACLs disabled) unless a service that "
    "writes with ACLs needs it, and then keep the public access block on."
)


def test_acl_messages():
    controls = {"bucket": "data", "rule": {"objectOwnership": "ObjectWriter"}}
    assert acl_problems(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls", proxied(controls), "own"
    ) == [
        f"Ownership controls 'own' of bucket data sets object ownership to ObjectWriter, {ACLS_ON}"
    ]
    unnamed = {"rule": {"objectOwnership": "ObjectWriter"}}
    assert acl_problems(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls", proxied(unnamed), "own"
    ) == [f"Ownership controls 'own' of bucket ? sets object ownership to ObjectWriter, {ACLS_ON}"]
    native = {
        "bucketName": "site-prod",
        "ownershipControls": {"rules": [{"objectOwnership": "BucketOwnerPreferred"}]},
    }
    assert acl_problems("aws-native:s3:Bucket", proxied(native), "site") == [
        "Bucket 'site' (bucket site-prod) sets object ownership to BucketOwnerPreferred, " + ACLS_ON
    ]


def test_trail_messages():
    assert trail_problems("aws:cloudtrail/trail:Trail", proxied({}), "org") == [
        "Trail 'org' lacks isMultiRegionTrail: true (log every region, including ones nobody "
        "uses); enableLogFileValidation: true (digest files prove logs were not altered); "
        "kmsKeyId (encrypt log files with a customer-managed key)."
    ]


def test_stack_rule_messages():
    pack = InProcessPack()
    bare = bucket(V7, "site")
    logging = part("aws:s3/bucketLogging:BucketLogging", "logging", targetBucket="site")
    found = {v.policy: v.message.split("\n", 1)[1] for v in pack.verdicts([bare])}
    assert found == {
        "s3-bucket-object-lock-enabled": "Bucket 'site' has no Object Lock. Set objectLockEnabled: "
        "true on a new bucket; for an existing one, add an aws.s3.BucketObjectLockConfiguration "
        'with objectLockEnabled: "Enabled" (S3 then turns versioning on, and it cannot be undone).',
        "s3-bucket-public-access-block": "Bucket 'site' has no public access block. Add an "
        "aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, "
        "ignorePublicAcls, restrictPublicBuckets all true (or an account-level block through the "
        "same provider).",
        "s3-bucket-default-retention": "Bucket 'site' has no Object Lock default retention, so "
        "objects are written unlocked. Add an aws.s3.BucketObjectLockConfiguration with "
        "rule.defaultRetention (mode and days).",
        "s3-bucket-kms-encryption": "Bucket 'site' does not encrypt with SSE-KMS by default. Add "
        "an aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, a customer "
        "key and bucketKeyEnabled.",
        "s3-bucket-versioning": "Bucket 'site' is not versioned. Add an aws.s3.BucketVersioning "
        "with status Enabled.",
        "s3-bucket-tls-only": "Bucket 'site' accepts requests without TLS. Add a bucket policy "
        "statement that denies s3:* to everyone when aws:SecureTransport is false.",
    }
    (excused,) = [v for v in pack.verdicts([bare, logging]) if v.policy == "exemptions-applied"]
    assert excused.message.split("\n", 1)[1] == (
        "exempted from s3-bucket-object-lock-enabled by '(rule)': receives server access logs: "
        "S3 cannot deliver them to a bucket with Object Lock (S3 user guide, Object Lock "
        "considerations), so no lock is asked of it; it must still be private, blocked and TLS-only"
    )


def test_each_policy_is_built_with_the_metadata_pulumi_cloud_shows():
    built = {policy.name: policy for policy in policies()}
    assert set(built) == set(ABOUT)
    for name, policy in built.items():
        for field, value in ABOUT[name].items():
            if field != "cis":
                assert getattr(policy, field) == value, (name, field)
    frameworks = {
        name: (
            p.framework.name,
            p.framework.version,
            p.framework.reference,
            p.framework.specification,
        )
        for name, p in built.items()
        if p.framework is not None
    }
    assert frameworks == {
        "s3-no-public-bucket": ("cis-aws-foundations", "3.0.0", "2.1.4", None),
        "s3-bucket-public-access-block": ("cis-aws-foundations", "3.0.0", "2.1.4", None),
        "s3-bucket-tls-only": ("cis-aws-foundations", "3.0.0", "2.1.1", None),
        "cloudtrail-trail-essentials": ("cis-aws-foundations", "3.0.0", "3.1, 3.2, 3.5", None),
    }
