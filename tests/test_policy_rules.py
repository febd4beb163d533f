"""The pack's resource rules on proxied props: pass, fail, missing, unknown, every provider's shape."""

import json

import pytest
from orgtrail_policies import stack
from orgtrail_policies.buckets import public_access_problems, trail_problems
from orgtrail_policies.props import MalformedPolicy, policy_document
from pulumi_policy.proxy import UnknownValueError

from tests.support.policy import TLS_DENY, UNKNOWN_BOOL, UNKNOWN_STRING, proxied, resource
from tests.support.policy_corpus import ALL_BLOCKED, BLOCK, NATIVE, V6, V7


def lock(resource_type, props, name="logs"):
    findings, _ = stack.bucket_findings(
        [resource(resource_type, name, props)], stack.missing_object_lock
    )
    return [problem for _, problem in findings]


def public(resource_type, props, name="logs"):
    return public_access_problems(resource_type, proxied(props), name)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ_ALL = {
    "Sid": "ReadAll",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}


# --- Object Lock -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (V7, {"objectLockEnabled": True}),
        (V6, {"objectLockEnabled": True}),
        (V6, {"objectLockConfiguration": {"objectLockEnabled": "Enabled"}}),
        (V7, {"objectLockConfiguration": {"objectLockEnabled": "Enabled", "rule": {}}}),
        (NATIVE, {"objectLockEnabled": True}),
    ],
)
def test_locked_buckets_pass_in_every_provider_shape(resource_type, props):
    assert lock(resource_type, props) == []


@pytest.mark.parametrize("resource_type", [V7, V6, NATIVE])
@pytest.mark.parametrize(
    "props",
    [
        {},
        {"objectLockEnabled": False},
        {"objectLockConfiguration": {"objectLockEnabled": "Disabled"}},
    ],
)
def test_unlocked_or_unspecified_buckets_fail_naming_the_bucket_and_the_fix(resource_type, props):
    (problem,) = lock(resource_type, {**props, "bucket": "acme-data"}, name="data")
    assert "'data' (bucket acme-data)" in problem
    assert "objectLockEnabled: true" in problem


def test_lock_rule_ignores_other_resources():
    assert lock("aws:s3/bucketObject:BucketObject", {}) == []
    assert lock("pulumi:providers:aws", {}) == []


@pytest.mark.parametrize("resource_type", [V7, V6, NATIVE])
def test_a_lock_setting_the_provider_computes_is_not_asked_for(resource_type):
    (problem,) = lock(resource_type, {"objectLockEnabled": UNKNOWN_BOOL})
    assert "has no Object Lock" in problem


# --- public ---------------------------------------------------------------------------


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_public_canned_acls_fail_inline_and_as_acl_resources(acl):
    assert acl in public(V7, {"acl": acl})[0]
    assert acl in public("aws:s3/bucketAclV2:BucketAclV2", {"bucket": "b", "acl": acl})[0]
    assert acl in public("aws:s3/bucketAcl:BucketAcl", {"bucket": "b", "acl": acl})[0]


def test_private_acls_pass():
    assert public(V7, {"acl": "private"}) == []
    assert public("aws:s3/bucketAcl:BucketAcl", {"bucket": "b", "acl": "log-delivery-write"}) == []


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
def test_grants_to_everyone_fail_in_both_shapes(group):
    uri = f"http://acs.amazonaws.com/groups/global/{group}"
    inline = public(V6, {"grants": [{"type": "Group", "uri": uri, "permissions": ["READ"]}]})
    assert group in inline[0]
    resource = public(
        "aws:s3/bucketAclV2:BucketAclV2",
        {
            "bucket": "b",
            "accessControlPolicy": {
                "grants": [{"grantee": {"type": "Group", "uri": uri}, "permission": "READ"}]
            },
        },
    )
    assert group in resource[0]


def test_native_public_access_control_fails():
    problems = public(
        NATIVE,
        {"accessControl": "PublicRead", "publicAccessBlockConfiguration": ALL_BLOCKED},
    )
    assert "PublicRead" in problems[0]


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111111111111:root", "*"]}]
)
def test_policies_open_to_everyone_without_condition_fail(principal):
    document = policy({**READ_ALL, "Principal": principal})
    (problem,) = public(
        "aws:s3/bucketPolicy:BucketPolicy", {"bucket": "acme-data", "policy": document}, name="p"
    )
    assert "ReadAll" in problem
    assert "acme-data" in problem
    assert "aws:PrincipalOrgID" in problem


def test_inline_and_native_policies_are_checked_too():
    assert public(V6, {"policy": policy(READ_ALL)})
    assert public(
        "aws-native:s3:BucketPolicy",
        {"bucket": "b", "policyDocument": json.loads(policy(READ_ALL))},
    )


# S3 user guide, "The meaning of 'public'": each key, with a fixed value, keeps a grant to
# everyone private.
@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"StringEquals": {"aws:PrincipalAccount": "111111111111"}},
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/reader"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}},
        {"StringEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        {"StringEquals": {"aws:SourceOwner": "111111111111"}},
        {"StringEquals": {"AWS:SourceAccount": ["111111111111", "222222222222"]}},
        {"StringEquals": {"aws:userid": "AIDAEXAMPLEUSERID"}},
        {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
        {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.7"]}},  # /8 is narrow enough
        {"IpAddress": {"aws:SourceIp": "203.0.113.7/24"}},  # host bits set: the /24
        {"IpAddress": {"aws:VpcSourceIp": "10.1.0.0/16"}},
        {"StringEquals": {"s3:DataAccessPointAccount": "111111111111"}},
        {"ArnLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/*"}},
        {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
        # Conditions are ANDed: one fixed restriction is enough.
        {
            "Bool": {"aws:SecureTransport": "true"},
            "StringEquals": {"aws:SourceAccount": "111111111111"},
        },
    ],
)
def test_conditions_that_restrict_the_caller_make_everyone_statements_private(condition):
    document = policy({**READ_ALL, "Condition": condition})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document}) == []


# The traps: each looks like a restriction and admits everyone.
@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"StringLike": {"aws:PrincipalOrgID": "*"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"Null": {"aws:PrincipalOrgID": "false"}},
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
        {"StringLike": {"aws:SourceAccount": "????????????"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}},
        {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
        {"StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "::/0"]}},
        # Broader than /8 (IPv4) or /32 (IPv6) is public, however the ranges are split.
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}},
        {"IpAddress": {"aws:SourceIp": "2000::/3"}},
        {"IpAddress": {"aws:SourceIp": "2001:db8::/31"}},
        {"IpAddress": {"aws:VpcSourceIp": "0.0.0.0/4"}},
        {"IpAddress": {"aws:SourceIp": "not-an-address"}},
        {"StringEquals": {"aws:PrincipalTag/team": "data"}},  # not a key the guide lists
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/*"]}},
        {"StringEquals": {"aws:PrincipalOrgID": []}},
        # Every access point of one account is fixed for s3:DataAccessPointArn only.
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/*"}},
    ],
)
def test_conditions_that_do_not_restrict_the_caller_leave_the_bucket_public(condition):
    document = policy({**READ_ALL, "Condition": condition})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document})


def test_a_fixed_key_after_unrecognised_ones_still_restricts():
    # Each operator and key is looked at, whatever comes first.
    condition = {
        "NumericLessThan": {"s3:max-keys": "10"},
        "StringEquals": {
            "aws:PrincipalTag/team": "data",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k",
            "aws:SourceAccount": "111111111111",
        },
    }
    statement = {**READ_ALL, "Action": "s3:PutObject", "Condition": condition}
    assert (
        public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": policy(statement)})
        == []
    )


def test_a_kms_key_condition_keeps_private_only_grants_without_bad_actions():
    kms = {
        "StringEquals": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k"
        }
    }
    benign = {**READ_ALL, "Action": "s3:GetBucketLocation", "Condition": kms}
    bad = {**READ_ALL, "Action": "s3:PutObject", "Condition": kms}
    wildcard = {**READ_ALL, "Action": "s3:*Object", "Condition": kms}
    check = "aws:s3/bucketPolicy:BucketPolicy"
    assert public(check, {"bucket": "b", "policy": policy(bad)})
    assert public(check, {"bucket": "b", "policy": policy(wildcard)})
    # GetBucketLocation is an s3:Get* action too: the guide's star notation makes it bad.
    assert public(check, {"bucket": "b", "policy": policy(benign)})
    harmless = {**READ_ALL, "Action": "s3:CreateSession", "Condition": kms}
    assert public(check, {"bucket": "b", "policy": policy(harmless)}) == []
    # NotAction grants every action it does not name, the bad ones included.
    everything_else = {k: v for k, v in harmless.items() if k != "Action"}
    not_action = {**everything_else, "NotAction": "s3:DeleteBucket"}
    assert public(check, {"bucket": "b", "policy": policy(not_action)})


@pytest.mark.parametrize(
    "principal", [{"AWS": "arn:aws:iam::*:root"}, {"CanonicalUser": "*"}, {"Federated": "*"}]
)
def test_any_wildcard_principal_is_everyone(principal):
    document = policy({**READ_ALL, "Principal": principal})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document})


def test_not_principal_in_an_allow_is_everyone_else():
    statement = {k: v for k, v in READ_ALL.items() if k != "Principal"}
    document = policy({**statement, "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"}})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document})


def test_deny_statements_and_named_principals_are_not_public():
    deny = {**READ_ALL, "Effect": "Deny"}
    named = {**READ_ALL, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}
    service = {**READ_ALL, "Principal": {"Service": "cloudtrail.amazonaws.com"}}
    assert (
        public(
            "aws:s3/bucketPolicy:BucketPolicy",
            {"bucket": "b", "policy": policy(deny, named, service)},
        )
        == []
    )


def test_malformed_policy_json_is_a_violation_not_a_crash():
    (problem,) = public(
        "aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": '{"Statement": ['}
    )
    assert "not valid JSON" in problem
    (problem,) = public(
        "aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": '{"Version": "2012-10-17"}'}
    )
    assert "no list of Statement" in problem


def test_single_statement_object_is_read_like_a_list():
    document = json.dumps({"Statement": READ_ALL})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document})


@pytest.mark.parametrize(
    "resource_type", [BLOCK, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"]
)
def test_public_access_blocks_need_all_four_settings(resource_type):
    assert public(resource_type, {"bucket": "b", **ALL_BLOCKED}) == []
    (problem,) = public(
        resource_type,
        {"bucket": "b", **ALL_BLOCKED, "restrictPublicBuckets": False, "ignorePublicAcls": None},
    )
    assert "ignorePublicAcls, restrictPublicBuckets off" in problem


def test_native_buckets_need_a_complete_inline_block():
    assert public(NATIVE, {"publicAccessBlockConfiguration": ALL_BLOCKED}) == []
    assert "no publicAccessBlockConfiguration" in public(NATIVE, {})[0]
    partial = {**ALL_BLOCKED, "blockPublicPolicy": False}
    assert "blockPublicPolicy off" in public(NATIVE, {"publicAccessBlockConfiguration": partial})[0]


# --- CloudTrail ----------------------------------------------------------------------


def test_trails_need_multi_region_validation_and_a_key():
    good = {
        "isMultiRegionTrail": True,
        "enableLogFileValidation": True,
        "kmsKeyId": "arn:aws:kms:us-east-1:1:key/x",
    }
    assert trail_problems("aws:cloudtrail/trail:Trail", proxied(good), "t") == []
    (problem,) = trail_problems(
        "aws-native:cloudtrail:Trail", proxied({"isMultiRegionTrail": True}), "t"
    )
    assert "enableLogFileValidation" in problem
    assert "kmsKeyId" in problem
    assert "isMultiRegionTrail" not in problem


# --- access points and Multi-Region Access Points ------------------------------------------

POINT, POINT_POLICY = (
    "aws:s3/accessPoint:AccessPoint",
    "aws:s3control/accessPointPolicy:AccessPointPolicy",
)
NATIVE_POINT = "aws-native:s3:AccessPoint"
MRAP, MRAP_POLICY = (
    "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint",
    "aws:s3control/multiRegionAccessPointPolicy:MultiRegionAccessPointPolicy",
)
NATIVE_MRAP, NATIVE_MRAP_POLICY = (
    "aws-native:s3:MultiRegionAccessPoint",
    "aws-native:s3:MultiRegionAccessPointPolicy",
)
THROUGH_ANY_POINT = {
    "ArnLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/*"}
}


@pytest.mark.parametrize(
    "condition",
    [
        THROUGH_ANY_POINT,
        {"StringEquals": {"s3:DataAccessPointAccount": "111111111111"}},
        {
            "StringEquals": {
                "s3:DataAccessPointArn": "arn:aws:s3:us-east-1:111111111111:accesspoint/p"
            }
        },
    ],
)
def test_conditions_on_the_access_point_itself_restrict_nothing_in_its_own_policy(condition):
    # In a bucket policy they delegate to the account's access points (private); in the
    # access point's own policy every request through it meets them.
    document = policy({**READ_ALL, "Condition": condition})
    assert public("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": document}) == []
    assert public(POINT, {"bucket": "b", "policy": document})
    assert public(POINT_POLICY, {"accessPointArn": "arn:aws:s3:::x", "policy": document})
    assert public(MRAP_POLICY, {"details": {"name": "m", "policy": document}})
    assert public(NATIVE_MRAP_POLICY, {"mrapName": "m", "policy": json.loads(document)})


def test_an_access_point_with_a_vpc_network_origin_is_not_public():
    document = policy(READ_ALL)
    in_vpc = {"bucket": "b", "policy": document, "vpcConfiguration": {"vpcId": "vpc-1a2b3c4d"}}
    assert public(POINT, in_vpc) == []
    assert public(NATIVE_POINT, {**in_vpc, "policy": json.loads(document)}) == []
    # Internet origin, or a VPC id the preview does not know: judged by its policy.
    assert public(POINT, {"bucket": "b", "policy": document})
    assert public(POINT, {**in_vpc, "vpcConfiguration": {}})


def test_multi_region_access_points_keep_every_block_setting_on():
    assert public(MRAP, {"details": {"name": "m", "publicAccessBlock": ALL_BLOCKED}}) == []
    assert public(MRAP, {"details": {"name": "m"}}) == []  # left out: every setting on
    some = {"blockPublicAcls": True, "ignorePublicAcls": True}  # the others left out: on
    assert public(MRAP, {"details": {"name": "m", "publicAccessBlock": some}}) == []
    (problem,) = public(
        MRAP,
        {
            "details": {
                "name": "m",
                "publicAccessBlock": {**ALL_BLOCKED, "blockPublicPolicy": False},
            }
        },
    )
    assert "Multi-Region Access Point 'logs' leaves blockPublicPolicy off" in problem
    assert public(
        NATIVE_MRAP,
        {"name": "m", "publicAccessBlockConfiguration": {"restrictPublicBuckets": False}},
    )
    (problem,) = public(MRAP_POLICY, {"details": {"name": "m", "policy": policy(READ_ALL)}})
    assert "Multi-Region Access Point policy 'logs' allows everyone" in problem


@pytest.mark.parametrize(
    "logging", ["aws:s3/bucketLoggingV2:BucketLoggingV2", "aws:s3/bucketLogging:BucketLogging"]
)
@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
def test_server_access_log_grants_to_everyone_are_public(logging, group):
    grant = {
        "grantee": {"type": "Group", "uri": f"http://acs.amazonaws.com/groups/global/{group}"},
        "permission": "READ",
    }
    props = {
        "bucket": "site",
        "targetBucket": "logs",
        "targetPrefix": "s/",
        "targetGrants": [grant],
    }
    (problem,) = public(logging, props)
    assert problem.startswith(
        f"Server access logging 'logs' of bucket site grants access to {group}."
    )
    owner = {"grantee": {"type": "CanonicalUser", "id": "abc"}, "permission": "FULL_CONTROL"}
    assert public(logging, {**props, "targetGrants": [owner]}) == []


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": ["*"]},
        {"AWS": ["arn:aws:iam::111111111111:root", "*"]},
        {"AWS": "*", "Service": "s3.amazonaws.com"},
    ],
)
def test_every_principal_shape_that_includes_everyone_is_everyone(principal):
    assert public(
        "aws:s3/bucketPolicy:BucketPolicy",
        {"bucket": "b", "policy": policy({**READ_ALL, "Principal": principal})},
    )


def test_a_value_not_known_in_a_preview_hides_only_the_part_that_reads_it():
    (problem,) = public(V7, {"acl": "public-read", "policy": UNKNOWN_STRING})
    assert "public canned ACL 'public-read'" in problem
    (problem,) = public(NATIVE, {"accessControl": UNKNOWN_STRING})
    assert "has no publicAccessBlockConfiguration" in problem
    # Nothing else found: the SDK's "can't run during preview" note stands for it.
    with pytest.raises(UnknownValueError):
        public(V7, {"acl": "private", "policy": UNKNOWN_STRING})


# --- documents AWS would reject (the IAM policy grammar) ----------------------------------

TLS = TLS_DENY
NO_EFFECT = {k: v for k, v in TLS.items() if k != "Effect"}
PRINCIPAL = 'Principal is not "*" or a map of principal types to strings or lists of strings'


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ({**TLS, "Condition": [{"Bool": {}}]}, "Condition is not a map of operators"),
        ({**TLS, "Condition": {"Bool": ["x"]}}, "Condition operator 'Bool' is not a map of condition keys"),
        ({**TLS, "Condition": {"Bool": {}}}, "Condition operator 'Bool' is not a map of condition keys"),
        ({**TLS, "Condition": {"Bool": {"k": {"a": 1}}}}, "Condition Bool 'k' is not a value or a list of values"),
        ({**TLS, "Condition": {"Bool": {"k": [{"a": 1}]}}}, "Condition Bool 'k' is not a value or a list of values"),
        ({**TLS, "Principals": "*"}, "element 'Principals' is not one of Action, Condition, Effect, "
         "NotAction, NotPrincipal, NotResource, Principal, Resource, Sid"),
        ({**TLS, "Effect": "Permit"}, "Effect 'Permit' is not Allow or Deny"),
        (NO_EFFECT, "Effect None is not Allow or Deny"),
        ({**TLS, "Principal": ["*"]}, PRINCIPAL),
        ({**TLS, "Principal": "arn:aws:iam::111111111111:root"}, PRINCIPAL),
        ({**TLS, "Principal": {}}, PRINCIPAL),
        ({**TLS, "Principal": {"AWS": 1}}, PRINCIPAL),
        ({**TLS, "NotPrincipal": [1]}, "Not" + PRINCIPAL),
        ({**TLS, "NotPrincipal": [1], "Principal": "*"}, "Not" + PRINCIPAL),
        ({**TLS, "Action": 3}, "Action is not a string or a list of strings"),
        ({**TLS, "Action": []}, "Action is not a string or a list of strings"),
        ({**TLS, "NotAction": ["s3:*", 1]}, "NotAction is not a string or a list of strings"),
        ({**TLS, "Resource": {"a": 1}}, "Resource is not a string or a list of strings"),
        ({**TLS, "NotResource": 1}, "NotResource is not a string or a list of strings"),
    ],
)  # fmt: skip
def test_a_statement_aws_would_reject_is_named_with_what_is_wrong(statement, why):
    with pytest.raises(MalformedPolicy) as raised:
        policy_document(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert str(raised.value) == f"has a statement 1 whose {why}"
    with pytest.raises(MalformedPolicy) as raised:
        policy_document({"Statement": [{**statement, "Sid": "Tls"}]})
    assert str(raised.value) == f"has a statement 'Tls' whose {why}"
    with pytest.raises(MalformedPolicy) as raised:
        policy_document({"Statement": [{**statement, "Sid": ""}]})
    assert str(raised.value) == f"has a statement 1 whose {why}"


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"Statement": [TLS], "Foo": 1}, "has the element 'Foo', which is not one of Id, Statement, Version"),
        ({"Version": "2012-10-17"}, "has no list of Statement objects"),
        ({"Statement": "x"}, "has no list of Statement objects"),
        ({"Statement": [TLS, "x"]}, "has no list of Statement objects"),
        ([TLS], "is not a JSON object"),
    ],
)  # fmt: skip
def test_a_document_aws_would_reject_is_named_with_what_is_wrong(document, why):
    with pytest.raises(MalformedPolicy) as raised:
        policy_document(json.dumps(document))
    assert str(raised.value) == why


@pytest.mark.parametrize(
    "statement",
    [
        TLS,
        {**TLS, "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "*"], "Service": "s3.amazonaws.com"}},
        {**TLS, "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"}, "Principal": "*"},
        {**TLS, "Action": ["s3:GetObject", "s3:PutObject"], "NotResource": ["arn:aws:s3:::b/*"]},
        {**TLS, "Condition": {"NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": False}}},
        {**TLS, "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}},
        {k: v for k, v in TLS.items() if k != "Condition"},
    ],
)  # fmt: skip
def test_every_shape_the_grammar_allows_is_read(statement):
    document = policy_document({"Version": "2012-10-17", "Id": "p", "Statement": statement})
    assert document["Statement"] == [statement]
