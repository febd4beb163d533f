"""A corpus of stacks for the pack, in the style of policy projects' fixtures.

Each case is a small stack (resources as a program would register them), the
policy it is about, and whether that policy must flag it. The cases cover the
shapes real programs send: pulumi-aws v7 (`Bucket`, singular inline forms),
v6 (`BucketV2` with its list shapes, `BucketAclV2`...), aws-native, and the
split resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from orgtrail.offline.simulate import Resource
from tests.support.policy import declared
from tests.support.preview import UNKNOWN, planned, stack

V7 = "aws:s3/bucket:Bucket"
V6 = "aws:s3/bucketV2:BucketV2"
NATIVE = "aws-native:s3:Bucket"
BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ALL_BLOCKED = dict.fromkeys(
    ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
)
TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
READ_ALL = {
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::data/*",
}
FLAGGED, CLEAN = True, False


@dataclass
class Case:
    id: str
    policy: str
    flagged: bool
    resources: list[Resource]


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def bucket(kind: str = V7, name: str = "data", **props) -> Resource:
    return declared(kind, name, {"bucket": name, "bucketName": name, "id": name, **props})


def block(name: str = "data", **settings) -> Resource:
    return declared(BLOCK, f"{name}-block", {"bucket": name, **ALL_BLOCKED, **settings})


def part(type_token: str, resource_name: str, /, **props) -> Resource:
    return declared(type_token, resource_name, {"bucket": "data", **props})


def locked(kind: str = V7) -> Resource:
    return bucket(kind, objectLockEnabled=True)


CASES = [
    # --- s3-no-public-bucket: policies -------------------------------------------------
    Case("v7 policy open to everyone", "s3-no-public-bucket", FLAGGED,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(READ_ALL))]),
    Case("v6 inline policy, ArnEquals aws:PrincipalArn arn:aws:iam::*", "s3-no-public-bucket", FLAGGED,
         [bucket(V6, objectLockEnabled=True, policy=document(
             {**READ_ALL, "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*"}}}))]),
    Case("native policy with StringEqualsIfExists", "s3-no-public-bucket", FLAGGED,
         [declared("aws-native:s3:BucketPolicy", "p", {"bucket": "data", "policyDocument": json.loads(document(
             {**READ_ALL, "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}}))})]),
    Case("policy variable as the value", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(
             {**READ_ALL, "Condition": {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}}}))]),
    Case("organisation members only", "s3-no-public-bucket", CLEAN,
         [part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(
             {**READ_ALL, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}))]),
    Case("a named account", "s3-no-public-bucket", CLEAN,
         [part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(
             {**READ_ALL, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}))]),
    # --- s3-no-public-bucket: ACLs, grants, objects --------------------------------------
    Case("v6 BucketV2 public-read", "s3-no-public-bucket", FLAGGED, [bucket(V6, acl="public-read")]),
    Case("v6 BucketV2 grant to AllUsers", "s3-no-public-bucket", FLAGGED,
         [bucket(V6, grants=[{"type": "Group", "permissions": ["READ"],
                              "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}])]),
    Case("v6 BucketAclV2 public-read-write", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/bucketAclV2:BucketAclV2", "acl", acl="public-read-write")]),
    Case("native PublicRead", "s3-no-public-bucket", FLAGGED,
         [bucket(NATIVE, accessControl="PublicRead", publicAccessBlockConfiguration=ALL_BLOCKED)]),
    Case("native private and blocked", "s3-no-public-bucket", CLEAN,
         [bucket(NATIVE, objectLockEnabled=True, publicAccessBlockConfiguration=ALL_BLOCKED)]),
    Case("v7 object public-read", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/bucketObjectv2:BucketObjectv2", "index", key="index.html", acl="public-read")]),
    Case("v6 object authenticated-read", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/bucketObject:BucketObject", "doc", key="doc.pdf", acl="authenticated-read")]),
    Case("object copy with a grant to everyone", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/objectCopy:ObjectCopy", "copy", key="k", source="src/k", grants=[
             {"type": "Group", "permissions": ["READ"], "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}])]),
    Case("private object", "s3-no-public-bucket", CLEAN,
         [part("aws:s3/bucketObjectv2:BucketObjectv2", "index", key="index.html", acl="private")]),
    # --- s3-no-public-bucket: access points -----------------------------------------------
    Case("access point policy open to everyone", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/accessPoint:AccessPoint", "ap", name="ap", policy=document(
             {**READ_ALL, "Resource": "arn:aws:s3:us-east-1:111111111111:accesspoint/ap/object/*"}))]),
    Case("access point with its block off", "s3-no-public-bucket", FLAGGED,
         [part("aws:s3/accessPoint:AccessPoint", "ap", name="ap",
               publicAccessBlockConfiguration={**ALL_BLOCKED, "restrictPublicBuckets": False})]),
    Case("native access point policy open to everyone", "s3-no-public-bucket", FLAGGED,
         [part("aws-native:s3:AccessPoint", "ap", policy=json.loads(document(READ_ALL)))]),
    Case("access point policy resource open to everyone", "s3-no-public-bucket", FLAGGED,
         [declared("aws:s3control/accessPointPolicy:AccessPointPolicy", "app", {
             "accessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/ap",
             "policy": document(READ_ALL)})]),
    Case("access point without block settings (S3 blocks by default)", "s3-no-public-bucket", CLEAN,
         [part("aws:s3/accessPoint:AccessPoint", "ap", name="ap")]),
    # --- s3-bucket-public-access-block -----------------------------------------------------
    Case("v7 bucket without a block", "s3-bucket-public-access-block", FLAGGED, [locked()]),
    Case("v6 bucket with a block by name", "s3-bucket-public-access-block", CLEAN, [locked(V6), block()]),
    Case("block with a setting off", "s3-no-public-bucket", FLAGGED, [locked(), block(blockPublicPolicy=False)]),
    # --- s3-bucket-object-lock-enabled -----------------------------------------------------
    Case("v7 bucket without Object Lock", "s3-bucket-object-lock-enabled", FLAGGED, [bucket(), block()]),
    Case("v6 inline lock configuration", "s3-bucket-object-lock-enabled", CLEAN,
         [bucket(V6, objectLockConfiguration={"objectLockEnabled": "Enabled"}), block()]),
    Case("native bucket with Object Lock", "s3-bucket-object-lock-enabled", CLEAN,
         [bucket(NATIVE, objectLockEnabled=True, publicAccessBlockConfiguration=ALL_BLOCKED)]),
    Case("server access log target without a lock", "s3-bucket-object-lock-enabled", CLEAN,
         [locked(), block(), bucket(name="access-logs"), block("access-logs"),
          part("aws:s3/bucketLogging:BucketLogging", "logging", targetBucket="access-logs")]),
    Case("native loggingConfiguration target without a lock", "s3-bucket-object-lock-enabled", CLEAN,
         [bucket(NATIVE, objectLockEnabled=True, publicAccessBlockConfiguration=ALL_BLOCKED,
                 loggingConfiguration={"destinationBucketName": "access-logs"}),
          declared(NATIVE, "access-logs", {"bucketName": "access-logs",
                                           "publicAccessBlockConfiguration": ALL_BLOCKED})]),
    Case("a logging target outside the stack excuses nothing", "s3-bucket-object-lock-enabled", FLAGGED,
         [bucket(), block(), part("aws:s3/bucketLogging:BucketLogging", "logging", targetBucket="elsewhere")]),
    Case("v6 inline loggings[] target without a lock", "s3-bucket-object-lock-enabled", CLEAN,
         [bucket(V6, objectLockEnabled=True, loggings=[{"targetBucket": "access-logs"}]), block(),
          bucket(V6, name="access-logs"), block("access-logs")]),
    Case("a block matched by the bucket's name", "s3-bucket-public-access-block", CLEAN,
         [declared(V7, "named", {"bucket": "data-named", "objectLockEnabled": True}),
          block("data-named")]),
    Case("a block matched by the bucket's id", "s3-bucket-public-access-block", CLEAN,
         [declared(V6, "by-id", {"id": "data-by-id", "objectLockEnabled": True}),
          block("data-by-id")]),
    Case("a block for another bucket", "s3-bucket-public-access-block", FLAGGED,
         [declared(V7, "named", {"bucket": "data-named", "objectLockEnabled": True}),
          block("data-other")]),
    # --- advisory: retention, KMS, versioning ------------------------------------------------
    Case("v6 retention in rules[].defaultRetentions[]", "s3-bucket-default-retention", CLEAN,
         [bucket(V6, objectLockEnabled=True, objectLockConfiguration={
             "objectLockEnabled": "Enabled",
             "rules": [{"defaultRetentions": [{"mode": "GOVERNANCE", "days": 30}]}]}), block()]),
    Case("no retention anywhere", "s3-bucket-default-retention", FLAGGED, [locked(), block()]),
    Case("v7 inline rule.defaultRetention", "s3-bucket-default-retention", CLEAN,
         [bucket(objectLockEnabled=True, objectLockConfiguration={
             "rule": {"defaultRetention": {"mode": "COMPLIANCE", "years": 1}}}), block()]),
    Case("v7 inline rule without defaultRetention", "s3-bucket-default-retention", FLAGGED,
         [bucket(objectLockEnabled=True, objectLockConfiguration={"rule": {}}), block()]),
    Case("v7 split lock configuration", "s3-bucket-default-retention", CLEAN,
         [locked(), block(), part("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                                  "lock", rule={"defaultRetention": {"mode": "GOVERNANCE", "days": 1}})]),
    Case("v7 split lock configuration without retention", "s3-bucket-default-retention", FLAGGED,
         [locked(), block(), part("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                                  "lock", rule={})]),
    Case("v6 KMS in serverSideEncryptionConfigurations[]", "s3-bucket-kms-encryption", CLEAN,
         [bucket(V6, objectLockEnabled=True, serverSideEncryptionConfigurations=[{"rules": [
             {"applyServerSideEncryptionByDefaults": [{"sseAlgorithm": "aws:kms"}]}]}]), block()]),
    Case("v7 split encryption with SSE-S3", "s3-bucket-kms-encryption", FLAGGED,
         [locked(), block(), part(
             "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
             "enc", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])]),
    Case("v6 versionings[]", "s3-bucket-versioning", CLEAN,
         [bucket(V6, versionings=[{"enabled": True}]), block()]),
    Case("native versioningConfiguration Enabled", "s3-bucket-versioning", CLEAN,
         [bucket(NATIVE, versioningConfiguration={"status": "Enabled"})]),
    Case("native versioningConfiguration Suspended", "s3-bucket-versioning", FLAGGED,
         [bucket(NATIVE, versioningConfiguration={"status": "Suspended"})]),
    Case("v7 split versioning Enabled", "s3-bucket-versioning", CLEAN,
         [bucket(), block(), part("aws:s3/bucketVersioning:BucketVersioning", "v",
                                  versioningConfiguration={"status": "Enabled"})]),
    Case("versioning suspended", "s3-bucket-versioning", FLAGGED,
         [bucket(), block(), part("aws:s3/bucketVersioning:BucketVersioning", "v",
                                  versioningConfiguration={"status": "Suspended"})]),
    # --- advisory: TLS only, ACLs ----------------------------------------------------------
    Case("TLS-only deny", "s3-bucket-tls-only", CLEAN,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(TLS_DENY))]),
    Case("TLS-only deny inline on a v7 bucket", "s3-bucket-tls-only", CLEAN,
         [bucket(objectLockEnabled=True, policy=document(TLS_DENY)), block()]),
    Case("TLS-only deny in a native policyDocument", "s3-bucket-tls-only", CLEAN,
         [declared(NATIVE, "data", {"bucketName": "data", "objectLockEnabled": True}),
          declared("aws-native:s3:BucketPolicy", "p",
                   {"bucket": "data", "policyDocument": json.loads(document(TLS_DENY))})]),
    Case("a malformed policy does not hide a TLS-only one", "s3-bucket-tls-only", CLEAN,
         [bucket(objectLockEnabled=True, policy="{not json"), block(),
          part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(TLS_DENY))]),
    Case("a native bucket without a policy", "s3-bucket-tls-only", FLAGGED,
         [declared(NATIVE, "data", {"bucketName": "data", "objectLockEnabled": True})]),
    Case("TLS-only deny to AWS *", "s3-bucket-tls-only", CLEAN,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p",
                                  policy=document({**TLS_DENY, "Principal": {"AWS": "*"}}))]),
    Case("a TLS deny to one account only is not TLS-only", "s3-bucket-tls-only", FLAGGED,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(
             {**TLS_DENY, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}))]),
    Case("an Allow to everyone on insecure transport is not TLS-only", "s3-bucket-tls-only", FLAGGED,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p",
                                  policy=document({**TLS_DENY, "Effect": "Allow"}))]),
    Case("an Allow on insecure transport is not TLS-only", "s3-bucket-tls-only", FLAGGED,
         [locked(), block(), part("aws:s3/bucketPolicy:BucketPolicy", "p", policy=document(
             {**TLS_DENY, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}))]),
    Case("ownership controls turning ACLs back on", "s3-bucket-acls-disabled", FLAGGED,
         [part("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "own",
               rule={"objectOwnership": "BucketOwnerPreferred"})]),
    Case("native bucket with ObjectWriter ownership", "s3-bucket-acls-disabled", FLAGGED,
         [bucket(NATIVE, ownershipControls={"rules": [{"objectOwnership": "ObjectWriter"}]})]),
    Case("ACLs disabled", "s3-bucket-acls-disabled", CLEAN,
         [part("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "own",
               rule={"objectOwnership": "BucketOwnerEnforced"})]),

]  # fmt: skip


# --- as a real preview sends them: planned outputs with unknowns, providers, the root stack ----

POINT = "aws:s3/accessPoint:AccessPoint"
LOCK_CONFIGURATION = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
RANDOM = "random:index/randomPet:RandomPet"


def new_bucket(kind: str = V7, name: str = "data", **props) -> Resource:
    """A bucket to be created, auto-named as Pulumi names it, the rest left to the provider."""
    key = "bucketName" if kind == NATIVE else "bucket"
    return planned(kind, name, {key: f"{name}-1a2b3c4", **props})


def blocked(target: Resource) -> Resource:
    return planned(BLOCK, f"{target.name}-block", ALL_BLOCKED, {"bucket": target})


def _preview_cases() -> list[Case]:
    unlocked_v7, unlocked_v6 = new_bucket(V7), new_bucket(V6)
    unlocked_native = new_bucket(NATIVE, publicAccessBlockConfiguration=ALL_BLOCKED)
    locked_v7 = new_bucket(V7, objectLockEnabled=True)
    suffix = planned(RANDOM, "suffix", {"length": 2})
    nameless = planned(V7, "data", {"objectLockEnabled": True}, {"bucket": suffix})
    flag = planned(RANDOM, "flag", {})
    undecided = planned(V7, "data", {"bucket": "data-1a2b3c4"}, {"objectLockEnabled": flag})
    native_logs = new_bucket(NATIVE, "logs", publicAccessBlockConfiguration=ALL_BLOCKED)
    native_site = planned(
        NATIVE,
        "site",
        {
            "bucketName": "site-1a2b3c4",
            "objectLockEnabled": True,
            "publicAccessBlockConfiguration": ALL_BLOCKED,
        },
        {
            "loggingConfiguration": (
                native_logs,
                {"destinationBucketName": UNKNOWN, "logFilePrefix": "site/"},
            )
        },
    )
    return [
        Case("preview: v7 bucket leaving objectLockEnabled to the provider",
             "s3-bucket-object-lock-enabled", FLAGGED, stack(unlocked_v7, blocked(unlocked_v7))),
        Case("preview: v6 bucket leaving objectLockEnabled to the provider",
             "s3-bucket-object-lock-enabled", FLAGGED, stack(unlocked_v6, blocked(unlocked_v6))),
        Case("preview: native bucket without objectLockEnabled",
             "s3-bucket-object-lock-enabled", FLAGGED, stack(unlocked_native)),
        Case("preview: locked v7 bucket, its block by output",
             "s3-bucket-object-lock-enabled", CLEAN, stack(locked_v7, blocked(locked_v7))),
        Case("preview: objectLockEnabled from an output not known yet",
             "s3-bucket-object-lock-enabled", FLAGGED, stack(flag, undecided, blocked(undecided))),
        Case("preview: a lock configuration by output enables Object Lock",
             "s3-bucket-object-lock-enabled", CLEAN,
             stack(unlocked_v7, blocked(unlocked_v7), planned(
                 LOCK_CONFIGURATION, "data-lock",
                 {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}}},
                 {"bucket": unlocked_v7}))),
        Case("preview: a bucket named from random, without a block",
             "s3-bucket-public-access-block", FLAGGED, stack(suffix, nameless)),
        Case("preview: a bucket named from random, its block by output",
             "s3-bucket-public-access-block", CLEAN, stack(suffix, nameless, blocked(nameless))),
        Case("preview: native log target named by an id not known yet is excused",
             "s3-bucket-object-lock-enabled", CLEAN, stack(native_logs, native_site)),
        Case("preview: an access point in a VPC with a policy to everyone",
             "s3-no-public-bucket", CLEAN,
             stack(locked_v7, blocked(locked_v7), planned(
                 POINT, "ap", {"vpcConfiguration": {"vpcId": "vpc-1a2b3c4d"},
                               "policy": document(READ_ALL)}, {"bucket": locked_v7}))),
        Case("preview: a public policy for a bucket whose id is not known yet",
             "s3-no-public-bucket", FLAGGED,
             stack(locked_v7, blocked(locked_v7), planned(
                 "aws:s3/bucketPolicy:BucketPolicy", "p", {"policy": document(READ_ALL)},
                 {"bucket": locked_v7}))),
    ]  # fmt: skip


CASES += _preview_cases()
