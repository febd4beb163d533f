"""The policy evaluator against the IAM user guide's evaluation rules ("Policy evaluation
logic", "IAM JSON policy elements: Condition operators", "Policy variables")."""

import re

import pytest

from orgtrail.policy_eval import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    Request,
    UnsupportedPolicy,
    allows,
    evaluate,
)

ALICE = "arn:aws:iam::111111111111:user/alice"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**fields):
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
        **fields,
    }


def get(key=f"{BUCKET}/a.txt", principal=ALICE, **context):
    return Request("s3:GetObject", key, principal_arn=principal, context=context)


def test_an_explicit_deny_overrides_any_allow():
    document = policy(allow(), {**allow(), "Effect": "Deny"})
    assert evaluate(document, get()) == DENY


def test_without_a_matching_allow_the_request_is_implicitly_denied():
    assert evaluate(policy(allow(Action="s3:PutObject")), get()) == IMPLICIT_DENY
    assert evaluate(policy(), get()) == IMPLICIT_DENY


def test_actions_match_case_insensitively_and_resources_case_sensitively():
    assert evaluate(policy(allow(Action="S3:getobject")), get()) == ALLOW
    assert evaluate(policy(allow(Action="s3:Get*")), get()) == ALLOW
    assert evaluate(policy(allow(Resource=f"{BUCKET}/A.TXT")), get()) == IMPLICIT_DENY
    assert evaluate(policy(allow(Resource=f"{BUCKET}/?.txt")), get()) == ALLOW
    # An object key may hold any UTF-8 character, a line break included: * matches it too.
    assert evaluate(policy(allow()), get(f"{BUCKET}/two\nlines.txt")) == ALLOW


@pytest.mark.parametrize(
    ("principal", "matches"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": "111111111111"}, True),
        ({"AWS": "arn:aws:iam::111111111111:root"}, True),
        ({"AWS": ALICE}, True),
        ({"AWS": "arn:aws:iam::222222222222:root"}, False),
        ({"AWS": "arn:aws-cn:iam::111111111111:root"}, False),  # same number, other partition
        ({"Service": "cloudtrail.amazonaws.com"}, False),
    ],
)
def test_principals_name_everyone_an_account_or_an_identity(principal, matches):
    assert (evaluate(policy(allow(Principal=principal)), get()) == ALLOW) is matches


def test_a_service_principal_matches_that_service_and_any_entry_of_a_list_may_match():
    delivering = Request("s3:PutObject", f"{BUCKET}/a.txt", service="cloudtrail.amazonaws.com")
    trail = allow(Action="s3:PutObject", Principal={"Service": "cloudtrail.amazonaws.com"})
    assert allows(policy(trail), delivering)
    other = Request("s3:PutObject", f"{BUCKET}/a.txt", service="config.amazonaws.com")
    assert not allows(policy(trail), other)
    # A service is no AWS identity: the account entry is passed over, "*" still names everyone.
    accounts_then_everyone = {"AWS": ["111111111111", "*"]}
    assert allows(policy(allow(Action="s3:*", Principal=accounts_then_everyone)), other)


def test_a_statement_without_principal_or_resource_applies_to_the_policy_holder():
    # An identity policy has no Principal, a role's trust policy no Resource.
    identity = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    assert evaluate(policy(identity), get()) == ALLOW
    trust = {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject"}
    assert evaluate(policy(trust), get()) == ALLOW


def test_not_principal_not_action_and_not_resource_match_what_they_do_not_name():
    others = {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "s3:*", "Resource": "*"}
    assert evaluate(policy(allow(), others), get()) == ALLOW
    assert evaluate(policy(allow(), others), get(principal="arn:aws:iam::1:user/bob")) == DENY
    not_action = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*", "Resource": "*"}
    assert evaluate(policy(not_action), get()) == ALLOW
    deleting = Request("s3:DeleteObject", f"{BUCKET}/a.txt", principal_arn=ALICE)
    assert evaluate(policy(not_action), deleting) == IMPLICIT_DENY
    not_resource = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:*",
        "NotResource": f"{BUCKET}/private/*",
    }
    assert evaluate(policy(not_resource), get()) == ALLOW
    assert evaluate(policy(not_resource), get(f"{BUCKET}/private/x")) == IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "expected", "context", "holds"),
    [
        ("StringEquals", "o-1", {"aws:PrincipalOrgID": "o-1"}, True),
        ("StringEquals", "o-1", {"aws:PrincipalOrgID": "o-2"}, False),
        ("StringEquals", "o-1", {}, False),  # a missing key matches nothing
        ("StringEqualsIgnoreCase", "O-1", {"aws:PrincipalOrgID": "o-1"}, True),
        ("StringLike", "o-*", {"aws:PrincipalOrgID": "o-1"}, True),
        ("StringNotEquals", "o-1", {"aws:PrincipalOrgID": "o-2"}, True),
        ("StringNotEquals", "o-1", {}, True),  # negated, key missing: true (IAM user guide)
        ("StringNotLike", "o-*", {"aws:PrincipalOrgID": "o-1"}, False),
        ("StringEqualsIfExists", "o-1", {}, True),  # IfExists, key missing: true
        ("StringEqualsIfExists", "o-1", {"aws:PrincipalOrgID": "o-2"}, False),
        ("StringNotEqualsIgnoreCase", "O-1", {"aws:PrincipalOrgID": "o-1"}, False),
        ("StringNotEqualsIgnoreCase", "O-1", {"aws:PrincipalOrgID": "o-2"}, True),
        ("ArnEquals", "o-1", {"aws:PrincipalOrgID": "o-1"}, True),
        ("ArnEquals", "o-1", {"aws:PrincipalOrgID": "o-2"}, False),
        ("ArnNotLike", "o-*", {"aws:PrincipalOrgID": "o-1"}, False),
        ("ArnNotLike", "o-*", {"aws:PrincipalOrgID": "x-1"}, True),
        # Whole values: a pattern matches the entire value, never a prefix or an infix
        # (IAM user guide, "String condition operators": * any run, ? one character).
        ("StringLike", "o-1", {"aws:PrincipalOrgID": "o-12"}, False),
        ("StringLike", "o-*", {"aws:PrincipalOrgID": "xo-1"}, False),
        ("StringLike", "o-?", {"aws:PrincipalOrgID": "o-1"}, True),
        ("StringLike", "o-?", {"aws:PrincipalOrgID": "o-12"}, False),
        ("StringLike", "o-?", {"aws:PrincipalOrgID": "o-"}, False),
        ("ArnLike", "arn:aws:s3:::b", {"aws:PrincipalOrgID": "arn:aws:s3:::b/key"}, False),
        ("ArnLike", "arn:aws:s3:::b*", {"aws:PrincipalOrgID": "arn:aws:s3:::bucket"}, True),
        ("StringEquals", "o-1", {"aws:PrincipalOrgID": "o-12"}, False),
        # StringEquals and StringLike compare values with case; IgnoreCase does not.
        ("StringEquals", "O-1", {"aws:PrincipalOrgID": "o-1"}, False),
        ("StringLike", "O-*", {"aws:PrincipalOrgID": "o-1"}, False),
        ("StringNotEquals", "O-1", {"aws:PrincipalOrgID": "o-1"}, True),
    ],
)
def test_string_operators(operator, expected, context, holds):
    document = policy(allow(Condition={operator: {"aws:PrincipalOrgID": expected}}))
    assert (evaluate(document, get(**context)) == ALLOW) is holds


def test_condition_keys_are_case_insensitive_and_values_any_of_a_list():
    document = policy(allow(Condition={"StringEquals": {"AWS:PrincipalOrgID": ["o-1", "o-2"]}}))
    assert evaluate(document, get(**{"aws:principalorgid": "o-2"})) == ALLOW
    # A multivalued key in the request matches when any of its values does.
    assert evaluate(document, get(**{"aws:PrincipalOrgID": ["o-9", "o-1"]})) == ALLOW
    assert evaluate(document, get(**{"aws:PrincipalOrgID": ["o-9", "o-8"]})) == IMPLICIT_DENY


def test_arn_bool_and_null_operators():
    arn = {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111111111111:trail/*"}}
    assert (
        evaluate(
            policy(allow(Condition=arn)),
            get(**{"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}),
        )
        == ALLOW
    )
    assert (
        evaluate(policy(allow(Condition={"ArnNotEquals": {"aws:SourceArn": "arn:x"}})), get())
        == ALLOW
    )
    tls = {"Bool": {"aws:SecureTransport": "false"}}
    assert evaluate(policy(allow(Condition=tls)), get(**{"aws:SecureTransport": "False"})) == ALLOW
    assert (
        evaluate(policy(allow(Condition=tls)), get(**{"aws:SecureTransport": "true"}))
        == IMPLICIT_DENY
    )
    present = {"Null": {"aws:MultiFactorAuthAge": "false"}}
    assert (
        evaluate(policy(allow(Condition=present)), get(**{"aws:MultiFactorAuthAge": "10"})) == ALLOW
    )
    assert evaluate(policy(allow(Condition=present)), get()) == IMPLICIT_DENY
    absent = {"Null": {"aws:MultiFactorAuthAge": "true"}}
    assert evaluate(policy(allow(Condition=absent)), get()) == ALLOW
    assert (
        evaluate(policy(allow(Condition=absent)), get(**{"aws:MultiFactorAuthAge": "10"}))
        == IMPLICIT_DENY
    )


def test_conditions_of_a_statement_must_all_hold():
    both = {"StringEquals": {"aws:PrincipalOrgID": "o-1"}, "Bool": {"aws:SecureTransport": "true"}}
    assert (
        evaluate(policy(allow(Condition=both)), get(**{"aws:PrincipalOrgID": "o-1"}))
        == IMPLICIT_DENY
    )
    context = {"aws:PrincipalOrgID": "o-1", "aws:SecureTransport": "true"}
    assert evaluate(policy(allow(Condition=both)), get(**context)) == ALLOW


def test_policy_variables_are_resolved_from_the_request_and_a_missing_one_matches_nothing():
    own = allow(Resource=f"{BUCKET}/home/${{aws:username}}/*")
    assert (
        evaluate(policy(own), get(f"{BUCKET}/home/alice/x", **{"aws:username": "alice"})) == ALLOW
    )
    assert (
        evaluate(policy(own), get(f"{BUCKET}/home/bob/x", **{"aws:username": "alice"}))
        == IMPLICIT_DENY
    )
    assert evaluate(policy(own), get(f"{BUCKET}/home/alice/x")) == IMPLICIT_DENY
    # Not resolved to an empty string, which would turn the pattern into a wildcard.
    anyone = allow(Resource=f"{BUCKET}/${{aws:username}}*")
    assert evaluate(policy(anyone), get(f"{BUCKET}/x")) == IMPLICIT_DENY
    in_condition = allow(
        Condition={"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}
    )
    context = {"aws:SourceAccount": "111111111111", "aws:PrincipalAccount": "111111111111"}
    assert evaluate(policy(in_condition), get(**context)) == ALLOW


def test_special_characters_are_literal_through_their_variables_and_brackets_are_not_classes():
    starred = allow(Resource=f"{BUCKET}/${{*}}${{?}}${{$}}.txt")
    assert evaluate(policy(starred), get(f"{BUCKET}/*?$.txt")) == ALLOW
    assert evaluate(policy(starred), get(f"{BUCKET}/ab$.txt")) == IMPLICIT_DENY
    like = allow(Condition={"StringLike": {"aws:userid": "AROA*:${*}"}})
    assert evaluate(policy(like), get(**{"aws:userid": "AROAEXAMPLE:*"})) == ALLOW
    assert evaluate(policy(like), get(**{"aws:userid": "AROAEXAMPLE:alice"})) == IMPLICIT_DENY
    bracketed = allow(Resource=f"{BUCKET}/[ab].txt")
    assert evaluate(policy(bracketed), get(f"{BUCKET}/a.txt")) == IMPLICIT_DENY
    assert evaluate(policy(bracketed), get(f"{BUCKET}/[ab].txt")) == ALLOW


def test_what_it_cannot_evaluate_it_refuses_rather_than_guesses():
    numeric = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    with pytest.raises(UnsupportedPolicy, match="unsupported condition operator 'NumericLessThan'"):
        evaluate(policy(allow(Condition=numeric)), get())
    with pytest.raises(UnsupportedPolicy, match="unsupported principal type 'Federated'"):
        evaluate(policy(allow(Principal={"Federated": "cognito-identity.amazonaws.com"})), get())
    with pytest.raises(UnsupportedPolicy, match="unsupported Principal 'alice'"):
        evaluate(policy(allow(Principal="alice")), get())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({**policy(allow()), "version": "2012-10-17"}, "unknown policy element 'version'"),
        ({**policy(allow()), "Version": "2012-10-18"}, "unknown policy Version '2012-10-18'"),
        (policy(allow(sid="x")), "unknown statement element 'sid'"),
        (policy(allow(Effect="allow")), "Effect must be Allow or Deny, not 'allow'"),
        (
            policy(allow(Condition={"Null": {"aws:SourceArn": "no"}})),
            "Null takes true or false, not 'no'",
        ),
        (
            policy({k: v for k, v in allow().items() if k != "Effect"}),
            "Effect must be Allow or Deny, not None",
        ),
        (
            {"Statement": [allow(Resource=f"{BUCKET}/${{aws:username}}/*")]},
            "policy variables need Version 2012-10-17",
        ),
    ],
)
def test_a_document_aws_would_refuse_is_refused(document, message):
    with pytest.raises(UnsupportedPolicy, match=f"^{re.escape(message)}$"):
        evaluate(document, get())


def test_without_a_version_a_policy_is_read_as_2008_10_17():
    assert evaluate({"Statement": [allow()]}, get()) == ALLOW
    assert evaluate({"Version": "2008-10-17", "Id": "p", "Statement": allow()}, get()) == ALLOW


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        (f"{BUCKET}", f"{BUCKET}", True),
        (f"{BUCKET}", f"{BUCKET}/key", False),  # a bucket ARN is not its objects'
        (f"{BUCKET}/*", f"{BUCKET}", False),  # nor the reverse
        (f"{BUCKET}/*", f"{BUCKET}-other/key", False),  # a sibling bucket's objects
        (f"{BUCKET}*", f"{BUCKET}-other", True),
        (f"{BUCKET}/a?c", f"{BUCKET}/abc", True),
        (f"{BUCKET}/a?c", f"{BUCKET}/abbc", False),
        (f"{BUCKET}/ABC", f"{BUCKET}/abc", False),  # resources compare with case
    ],
)
def test_resources_match_whole_arns(pattern, resource, matches):
    document = policy(allow(Resource=pattern))
    assert (evaluate(document, get(resource)) == ALLOW) is matches
