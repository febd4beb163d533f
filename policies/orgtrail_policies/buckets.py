"""Resource-level rules: each returns the problems it finds in one resource's props.

The rules are pure functions of (type, props, name) so they can be tested
without the engine; `policies.py` turns them into CrossGuard policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgtrail_policies.props import MalformedPolicy, as_list, get, is_on, items, policy_document

# pulumi-aws v6 `Bucket` is the legacy (inline) bucket; v7 `Bucket` and v6 `BucketV2` are the
# current one. Both tokens accept the inline forms, so both are read the same way.
CLASSIC_BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
NATIVE_BUCKET = "aws-native:s3:Bucket"
BUCKET_TYPES = CLASSIC_BUCKETS | {NATIVE_BUCKET}
ACL_TYPES = frozenset({"aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"})
POLICY_TYPES = frozenset({"aws:s3/bucketPolicy:BucketPolicy", "aws-native:s3:BucketPolicy"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
TRAIL_TYPES = frozenset({"aws:cloudtrail/trail:Trail", "aws-native:cloudtrail:Trail"})

BLOCK_SETTINGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_NATIVE_ACLS = frozenset({"PublicRead", "PublicReadWrite", "AuthenticatedRead"})
PUBLIC_GROUPS = ("/global/AllUsers", "/global/AuthenticatedUsers")
# Condition keys that pin down who the caller is (or on whose behalf a service acts).
RESTRICTING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
        "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
        "aws:SourceVpce", "aws:SourceVpc", "aws:userid", "aws:username", "aws:PrincipalServiceName",
    )
)  # fmt: skip


def describe_bucket(name: str, props: Mapping[str, Any]) -> str:
    """'name' (bucket physical-name) when the physical name is known."""
    physical = get(props, "bucket") or get(props, "bucketName")
    if isinstance(physical, str) and physical and physical != name:
        return f"'{name}' (bucket {physical})"
    return f"'{name}'"


# --- Object Lock -------------------------------------------------------------------


def object_lock_problems(resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    """Object Lock can only be turned on when a bucket is created, so it must be in the bucket itself."""
    if resource_type not in BUCKET_TYPES:
        return []
    enabled = is_on(get(props, "objectLockEnabled")) or is_on(
        get(props, "objectLockConfiguration", "objectLockEnabled")
    )
    if enabled:
        return []
    return [
        f"Bucket {describe_bucket(name, props)} is created without Object Lock. Object Lock can only be "
        "enabled when a bucket is created: set objectLockEnabled: true on the bucket."
    ]


# --- public access ---------------------------------------------------------------------


def _restricting(condition: Any) -> bool:
    """True when some positive condition pins the caller to specific principals."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        base = operator.split(":")[-1]
        if "Not" in base or base.startswith("Null") or not isinstance(tests, Mapping):
            continue
        for key, values in tests.items():
            values = [str(v) for v in as_list(values)]
            if (
                key.lower() in RESTRICTING_KEYS
                and values
                and all(v.strip() not in ("", "*") for v in values)
            ):
                return True
    return False


def _public_principal(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in [str(p) for p in as_list(principal.get("AWS"))]


def public_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Allow statements open to everyone without a condition that restricts who the caller is."""
    return [
        statement
        for statement in document["Statement"]
        if statement.get("Effect") == "Allow"
        and _public_principal(statement)
        and not _restricting(statement.get("Condition"))
    ]


def enforces_tls(document: Mapping[str, Any]) -> bool:
    """A Deny for everyone when aws:SecureTransport is false."""
    for statement in document["Statement"]:
        condition = statement.get("Condition") or {}
        bool_tests = {k.lower(): v for k, v in (condition.get("Bool") or {}).items()}
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and [str(v).lower() for v in as_list(bool_tests.get("aws:securetransport"))]
            == ["false"]
        ):
            return True
    return False


def _policy_problems(what: str, value: Any) -> list[str]:
    try:
        document = policy_document(value)
    except MalformedPolicy as err:
        return [
            f"{what} {err}; a policy that cannot be read cannot be shown to be private. Fix the JSON."
        ]
    if document is None:
        return []
    problems = []
    for statement in public_statements(document):
        sid = statement.get("Sid") or "without Sid"
        problems.append(
            f"{what} allows everyone (statement {sid}) without a condition on who the caller is. "
            "Name the principals, or add a condition such as aws:PrincipalOrgID, aws:SourceArn or aws:SourceAccount."
        )
    return problems


def _block_problems(what: str, block: Any) -> list[str]:
    off = [setting for setting in BLOCK_SETTINGS if not is_on(get(block, setting))]
    if not off:
        return []
    return [
        f"{what} leaves {', '.join(off)} off. Set all four of {', '.join(BLOCK_SETTINGS)} to true."
    ]


def _grant_problems(what: str, grants: Any) -> list[str]:
    for grant in items(grants):
        uri = str(get(grant, "uri") or get(grant, "grantee", "uri") or "")
        if any(uri.endswith(group) for group in PUBLIC_GROUPS):
            group = uri.rsplit("/", 1)[-1]
            return [
                f"{what} grants access to {group}. Remove the grant; share through a bucket policy with conditions."
            ]
    return []


def public_access_problems(resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    if resource_type in CLASSIC_BUCKETS:
        what = f"Bucket {describe_bucket(name, props)}"
        problems = []
        acl = get(props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            problems.append(
                f"{what} has the public canned ACL {acl!r}. Use 'private' (or no ACL at all)."
            )
        problems += _grant_problems(what, get(props, "grants"))
        problems += _policy_problems(f"{what}'s inline policy", get(props, "policy"))
        return problems
    if resource_type == NATIVE_BUCKET:
        what = f"Bucket {describe_bucket(name, props)}"
        problems = []
        acl = get(props, "accessControl")
        if acl in PUBLIC_NATIVE_ACLS:
            problems.append(f"{what} has the public access control {acl!r}. Use 'Private'.")
        block = get(props, "publicAccessBlockConfiguration")
        if block is None:
            problems.append(
                f"{what} has no publicAccessBlockConfiguration. Set {', '.join(BLOCK_SETTINGS)} to true."
            )
        else:
            problems += _block_problems(f"{what}'s publicAccessBlockConfiguration", block)
        return problems
    if resource_type in ACL_TYPES:
        what = f"ACL '{name}' of bucket {get(props, 'bucket') or '?'}"
        problems = []
        acl = get(props, "acl")
        if acl in PUBLIC_CANNED_ACLS:
            problems.append(f"{what} applies the public canned ACL {acl!r}. Use 'private'.")
        problems += _grant_problems(what, get(props, "accessControlPolicy", "grants"))
        return problems
    if resource_type in POLICY_TYPES:
        document = (
            get(props, "policy")
            if resource_type.startswith("aws:")
            else get(props, "policyDocument")
        )
        return _policy_problems(
            f"Bucket policy '{name}' of bucket {get(props, 'bucket') or '?'}", document
        )
    if resource_type == PUBLIC_ACCESS_BLOCK:
        return _block_problems(
            f"Public access block '{name}' of bucket {get(props, 'bucket') or '?'}", props
        )
    if resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK:
        return _block_problems(f"Account-level public access block '{name}'", props)
    return []


# --- CloudTrail -------------------------------------------------------------------------


def trail_problems(resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    if resource_type not in TRAIL_TYPES:
        return []
    missing = []
    if not is_on(get(props, "isMultiRegionTrail")):
        missing.append("isMultiRegionTrail: true (log every region, including ones nobody uses)")
    if not is_on(get(props, "enableLogFileValidation")):
        missing.append("enableLogFileValidation: true (digest files prove logs were not altered)")
    if not get(props, "kmsKeyId"):
        missing.append("kmsKeyId (encrypt log files with a customer-managed key)")
    if not missing:
        return []
    return [f"Trail '{name}' lacks {'; '.join(missing)}."]
