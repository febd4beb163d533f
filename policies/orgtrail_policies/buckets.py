"""Resource-level rules: each returns the problems it finds in one resource's props.

The rules are pure functions of (type, props, name) so they can be tested
without the engine; `policies.py` turns them into CrossGuard policies.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from orgtrail_policies.props import (
    MalformedPolicy,
    Undecided,
    as_list,
    each,
    get,
    is_on,
    items,
    policy_document,
)

# pulumi-aws v6 `Bucket` is the legacy (inline) bucket; v7 `Bucket` and v6 `BucketV2` are the
# current one. Both tokens accept the inline forms, so both are read the same way.
CLASSIC_BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
NATIVE_BUCKET = "aws-native:s3:Bucket"
BUCKET_TYPES = CLASSIC_BUCKETS | {NATIVE_BUCKET}
ACL_TYPES = frozenset({"aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"})
POLICY_TYPES = frozenset({"aws:s3/bucketPolicy:BucketPolicy", "aws-native:s3:BucketPolicy"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
# Objects carry ACLs of their own; an access point has its own policy and block.
OBJECT_TYPES = frozenset(
    {
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:s3/bucketObject:BucketObject",
        "aws:s3/objectCopy:ObjectCopy",
    }
)
ACCESS_POINT_TYPES = frozenset({"aws:s3/accessPoint:AccessPoint", "aws-native:s3:AccessPoint"})
ACCESS_POINT_POLICY = "aws:s3control/accessPointPolicy:AccessPointPolicy"
# Multi-Region Access Points: their own policy and public access block (s3control, aws-native).
MRAP = "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint"
MRAP_POLICY = "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy"
NATIVE_MRAP = "aws-native:s3:MultiRegionAccessPoint"
NATIVE_MRAP_POLICY = "aws-native:s3:MultiRegionAccessPointPolicy"
# Server access logging may grant the log objects to others (targetGrants).
LOGGING_TYPES = frozenset(
    {"aws:s3/bucketLoggingV2:BucketLoggingV2", "aws:s3/bucketLogging:BucketLogging"}
)
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
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
# S3 user guide, "Blocking public access to your Amazon S3 storage", section "The meaning of
# 'public'" (and the PublicAccessBlockConfiguration API reference): a bucket or access point
# policy is public unless each statement granting to everyone is limited to *fixed* values (no
# wildcard, no policy variable) of one of these keys. Lower case: keys are case-insensitive.
FIXED_VALUE_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:SourceArn",
        "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount", "aws:userid",
        "s3:DataAccessPointArn", "s3:DataAccessPointAccount", "aws:SourceIp", "aws:VpcSourceIp",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    )
)  # fmt: skip
# In an access point's own policy, every request made through it has that access point's ARN
# and account: conditions on them limit nothing (the guide's exceptions for them are for
# bucket policies that delegate to access points).
ACCESS_POINT_KEYS = frozenset({"s3:dataaccesspointarn", "s3:dataaccesspointaccount"})
IP_KEYS = frozenset({"aws:sourceip", "aws:vpcsourceip"})
# "The meaning of 'public'": aws:SourceIp ranges broader than /8 for IPv4 or /32 for IPv6 are
# evaluated as public, however many of them a policy lists.
NARROWEST_PUBLIC_PREFIX = {4: 8, 6: 32}
# The KMS key condition keeps a grant private only when it includes none of the "bad actions",
# those that "could expose the data inside a bucket to reads or writes by the public".
BAD_ACTIONS = (
    "s3:get*",
    "s3:list*",
    "s3:abortmultipartupload",
    "s3:delete*",
    "s3:put*",
    "s3:restoreobject",
)
KMS_KEY_CONDITION = "s3:x-amz-server-side-encryption-aws-kms-key-id"
# One action of each bad family, to tell whether a wildcard action ("s3:*Object") covers one.
BAD_ACTION_EXAMPLES = (
    "s3:getobject", "s3:listbucket", "s3:abortmultipartupload", "s3:deleteobject", "s3:putobject",
    "s3:restoreobject",
)  # fmt: skip
# Operators that hold only when the key is present and equal to one of the values. Negated
# operators, ...IfExists (true when the key is absent), Null tests and ForAllValues (true for an
# empty set) admit requests the value does not name, so they restrict nothing.
POSITIVE_OPERATORS = frozenset(
    op.lower()
    for op in (
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "ArnEquals",
        "ArnLike",
        "IpAddress",
    )
)
# s3:DataAccessPointArn may name every access point of one fixed account (S3 user guide).
_ACCESS_POINTS_OF_ONE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:s3:[a-z0-9-]+:\d{12}:accesspoint/\*$")
EVERY_ADDRESS = ("0.0.0.0/0", "::/0")


def known_name(props: Mapping[str, Any], *keys: str) -> str | None:
    """The first of `keys` that holds a known string: names in messages only, so a name a
    preview does not know yet never keeps a verdict from being given."""
    for key in keys:
        try:
            value = get(props, key)
        except (UnknownValueError, Undecided):
            continue
        if isinstance(value, str) and value:
            return value
    return None


def describe_bucket(name: str, props: Mapping[str, Any]) -> str:
    """'name' (bucket physical-name) when the physical name is known."""
    physical = known_name(props, "bucket", "bucketName")
    if physical and physical != name:
        return f"'{name}' (bucket {physical})"
    return f"'{name}'"


def _of_bucket(props: Mapping[str, Any]) -> str:
    return known_name(props, "bucket") or "?"


# --- public access ---------------------------------------------------------------------


def _fixed(key: str, value: Any, context: str) -> bool:
    """A value that names something: no wildcard, no policy variable, not "everyone".

    `context` is "bucket" for a bucket policy, "access point" for an access point's own."""
    text = str(value).strip()
    if not text or "${" in text:
        return False
    if (
        key == "s3:dataaccesspointarn"
        and context == "bucket"
        and _ACCESS_POINTS_OF_ONE_ACCOUNT.match(text)
    ):
        return True
    if key in IP_KEYS:
        return _narrow_range(text)
    return "*" not in text and "?" not in text


def _narrow_range(text: str) -> bool:
    """An address or CIDR range no broader than the guide allows; anything unreadable is not."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return network.prefixlen >= NARROWEST_PUBLIC_PREFIX[network.version]


def _has_bad_action(statement: Mapping[str, Any]) -> bool:
    """Whether any action (or wildcard) of the statement is one of the bad actions."""
    if "NotAction" in statement:
        return True
    for action in as_list(statement.get("Action")):
        action = str(action).lower()
        if any(fnmatch.fnmatchcase(action, bad) for bad in BAD_ACTIONS) or any(
            fnmatch.fnmatchcase(example, action) for example in BAD_ACTION_EXAMPLES
        ):
            return True
    return False


def _restricting(statement: Mapping[str, Any], context: str) -> bool:
    """True when a condition limits the statement to fixed values of a key AWS recognises."""
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        qualifier, _, base = operator.rpartition(":")
        if (
            base.lower() not in POSITIVE_OPERATORS
            or qualifier.lower() not in ("", "foranyvalue")
            or not isinstance(tests, Mapping)
        ):
            continue
        for key, values in tests.items():
            key = key.lower()
            values = as_list(values)
            if key not in FIXED_VALUE_KEYS or not values:
                continue
            if context == "access point" and key in ACCESS_POINT_KEYS:
                continue
            if key == KMS_KEY_CONDITION and _has_bad_action(statement):
                continue
            if all(_fixed(key, value, context) for value in values):
                return True
    return False


def _public_principal(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and any(
        "*" in str(value) for values in principal.values() for value in as_list(values)
    )


def public_statements(
    document: Mapping[str, Any], context: str = "bucket"
) -> list[Mapping[str, Any]]:
    """Allow statements open to everyone without a condition that restricts who the caller is."""
    return [
        statement
        for statement in document["Statement"]
        if statement.get("Effect") == "Allow"
        and _public_principal(statement)
        and not _restricting(statement, context)
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


def _policy_problems(what: str, value: Any, context: str = "bucket") -> list[str]:
    try:
        document = policy_document(value)
    except MalformedPolicy as err:
        return [
            f"{what} {err}; a policy that cannot be read cannot be shown to be private. Fix the JSON."
        ]
    if document is None:
        return []
    problems = []
    for statement in public_statements(document, context):
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


def _canned_acl_problems(what: str, acl: Any) -> list[str]:
    if acl in PUBLIC_CANNED_ACLS:
        return [f"{what} has the public canned ACL {acl!r}. Use 'private' (or no ACL at all)."]
    return []


def _grant_problems(what: str, grants: Any) -> list[str]:
    for grant in items(grants):
        uri = str(get(grant, "uri") or get(grant, "grantee", "uri") or "")
        if any(uri.endswith(group) for group in PUBLIC_GROUPS):
            group = uri.rsplit("/", 1)[-1]
            return [
                f"{what} grants access to {group}. Remove the grant; share through a bucket policy with conditions."
            ]
    return []


Check = Callable[[], list[str]]


def public_access_problems(resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    """Everything that makes the resource public. Each part is judged on its own, so a value a
    preview does not know hides only the part that reads it: when nothing else is found, the
    SDK's "can't run during preview" note stands for it (and `pulumi up` judges it, known,
    before the resource's step)."""
    problems: list[str] = []
    unknown: UnknownValueError | None = None
    for check in _public_checks(resource_type, props, name):
        try:
            problems += check()
        except UnknownValueError as error:
            unknown = unknown or error
    if unknown is not None and not problems:
        raise unknown
    return problems


def _public_checks(resource_type: str, props: Mapping[str, Any], name: str) -> list[Check]:
    if resource_type in CLASSIC_BUCKETS:
        bucket = describe_bucket(name, props)
        return [
            lambda: _canned_acl_problems(f"Bucket {bucket}", get(props, "acl")),
            lambda: _grant_problems(f"Bucket {bucket}", get(props, "grants")),
            lambda: _policy_problems(f"The inline policy of bucket {bucket}", get(props, "policy")),
        ]
    if resource_type == NATIVE_BUCKET:
        bucket = describe_bucket(name, props)
        return [
            lambda: _native_acl_problems(bucket, get(props, "accessControl")),
            lambda: _native_block_problems(bucket, get(props, "publicAccessBlockConfiguration")),
        ]
    if resource_type in ACL_TYPES:
        what = f"ACL '{name}' of bucket {_of_bucket(props)}"
        return [
            lambda: _canned_acl_problems(what, get(props, "acl")),
            lambda: _grant_problems(what, get(props, "accessControlPolicy", "grants")),
        ]
    if resource_type in POLICY_TYPES:
        key = "policy" if resource_type.startswith("aws:") else "policyDocument"
        what = f"Bucket policy '{name}' of bucket {_of_bucket(props)}"
        return [lambda: _policy_problems(what, get(props, key))]
    if resource_type == PUBLIC_ACCESS_BLOCK:
        what = f"Public access block '{name}' of bucket {_of_bucket(props)}"
        return [lambda: _block_problems(what, props)]
    if resource_type == ACCOUNT_PUBLIC_ACCESS_BLOCK:
        return [lambda: _block_problems(f"Account-level public access block '{name}'", props)]
    if resource_type in OBJECT_TYPES:
        what = f"Object '{name}' in bucket {_of_bucket(props)}"
        return [
            lambda: _canned_acl_problems(what, get(props, "acl")),
            lambda: _grant_problems(what, get(props, "grants")),
        ]
    if resource_type in ACCESS_POINT_TYPES:
        point = f"access point '{name}' of bucket {_of_bucket(props)}"
        return [
            lambda: _access_point_policy_problems(point, props),
            lambda: _access_point_block_problems(
                point, get(props, "publicAccessBlockConfiguration")
            ),
        ]
    if resource_type == ACCESS_POINT_POLICY:
        what = f"Access point policy '{name}' of {known_name(props, 'accessPointArn') or '?'}"
        return [lambda: _policy_problems(what, get(props, "policy"), "access point")]
    if resource_type in (MRAP, NATIVE_MRAP):
        path = (
            ("details", "publicAccessBlock")
            if resource_type == MRAP
            else ("publicAccessBlockConfiguration",)
        )
        return [lambda: _multi_region_block_problems(name, get(props, *path))]
    if resource_type in (MRAP_POLICY, NATIVE_MRAP_POLICY):
        path = ("details", "policy") if resource_type == MRAP_POLICY else ("policy",)
        what = f"Multi-Region Access Point policy '{name}'"
        return [lambda: _policy_problems(what, get(props, *path), "access point")]
    if resource_type in LOGGING_TYPES:
        what = f"Server access logging '{name}' of bucket {_of_bucket(props)}"
        return [lambda: _grant_problems(what, get(props, "targetGrants"))]
    return []


def _native_acl_problems(bucket: str, acl: Any) -> list[str]:
    if acl in PUBLIC_NATIVE_ACLS:
        return [f"Bucket {bucket} has the public access control {acl!r}. Use 'Private'."]
    return []


def _native_block_problems(bucket: str, block: Any) -> list[str]:
    if block is None:
        return [
            f"Bucket {bucket} has no publicAccessBlockConfiguration. Set {', '.join(BLOCK_SETTINGS)} to true."
        ]
    return _block_problems(f"The publicAccessBlockConfiguration of bucket {bucket}", block)


def _access_point_policy_problems(point: str, props: Mapping[str, Any]) -> list[str]:
    # S3 user guide, "Creating access points restricted to a virtual private cloud": an access
    # point with a VPC network origin rejects every request from outside that VPC, so a policy
    # to everyone does not make it public. Only a known VPC id counts.
    if known_name(get(props, "vpcConfiguration") or {}, "vpcId"):
        return []
    return _policy_problems(f"The policy of {point}", get(props, "policy"), "access point")


def _access_point_block_problems(point: str, block: Any) -> list[str]:
    # Left out, S3 turns all four settings on for a new access point (CreateAccessPoint).
    if block is None:
        return []
    return _block_problems(f"The publicAccessBlockConfiguration of {point}", block)


def _multi_region_block_problems(name: str, block: Any) -> list[str]:
    # Left out, each setting is on (CreateMultiRegionAccessPoint; the provider defaults each
    # to true); one set false is off.
    if block is None:
        return []
    off = [s for s in BLOCK_SETTINGS if get(block, s) is not None and not is_on(get(block, s))]
    if not off:
        return []
    return [
        f"Multi-Region Access Point '{name}' leaves {', '.join(off)} off. Set all four of "
        f"{', '.join(BLOCK_SETTINGS)} to true (it cannot be changed after creation)."
    ]


# --- ACLs -------------------------------------------------------------------------------

ACL_ENABLING_OWNERSHIP = ("ObjectWriter", "BucketOwnerPreferred")


def acl_problems(resource_type: str, props: Mapping[str, Any], name: str) -> list[str]:
    """ACLs switched back on: public ACLs then hinge on the public access block alone."""
    if resource_type == OWNERSHIP_CONTROLS:
        owners = each(props, "rule", "objectOwnership")
        what = f"Ownership controls '{name}' of bucket {_of_bucket(props)}"
    elif resource_type == NATIVE_BUCKET:
        owners = each(props, "ownershipControls", "rule", "objectOwnership")
        what = f"Bucket {describe_bucket(name, props)}"
    else:
        return []
    enabling = [owner for owner in owners if owner in ACL_ENABLING_OWNERSHIP]
    if not enabling:
        return []
    return [
        f"{what} sets object ownership to {enabling[0]}, which turns ACLs back on. Use "
        "BucketOwnerEnforced (ACLs disabled) unless a service that writes with ACLs needs it, "
        "and then keep the public access block on."
    ]


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
