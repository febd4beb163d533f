"""The log reader: the role `--log-bucket-role-arn` names is created by the security stack,
trusted by the named roles of the management account only, and allows every call verify
and cutover really make through it (recorded against moto, evaluated)."""

import json
from dataclasses import replace
from datetime import timedelta

import pulumi
import pytest

from orgtrail.__main__ import main
from orgtrail.analysis.cloudtrail_schema import DATABASE
from orgtrail.contract.policy_documents import LOG_READER, log_reader_policy
from orgtrail.ops import cutover as cutover_command
from orgtrail.ops import verify as verify_command
from orgtrail.ops.aws import bucket_reader
from orgtrail.policy_eval import ALLOW, evaluate
from tests.support.aws_calls import recorded_calls, requests_of
from tests.support.moto_org import CENTRAL_BUCKET, MANAGEMENT, TRAIL_NAME
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    OTHER_MEMBER_ACCOUNT,
    SECURITY_ACCOUNT,
    policy_of,
    run_security,
    security_config,
)
from tests.test_cutover import DAY, NOW, cli, payments_trail, write_stack
from tests.test_verify import ACTIVE, deliver_for, security_role

OPERATOR = f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-operator"
VERIFY = f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-verify"
READER_ARN = f"arn:aws:iam::{SECURITY_ACCOUNT}:role/{LOG_READER}"


def assume(role: str):
    from orgtrail.policy_eval import Request

    return Request(
        "sts:AssumeRole", READER_ARN, principal_arn=role, context={"aws:PrincipalArn": role}
    )


@pytest.fixture(scope="module")
def stack():
    return run_security(security_config(logReaderPrincipalArns=[OPERATOR, VERIFY]))


def test_only_the_named_roles_of_the_management_account_may_assume_it(stack):
    role = stack.one("aws:iam/role:Role", "log-reader")
    assert role.inputs["name"] == LOG_READER
    trust = policy_of(role, "assumeRolePolicy")
    assert evaluate(trust, assume(OPERATOR)) == ALLOW
    assert evaluate(trust, assume(VERIFY)) == ALLOW
    for stranger in (
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/developer",
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-operator-2",
        f"arn:aws:iam::{OTHER_MEMBER_ACCOUNT}:role/org-trail-operator",
    ):
        assert evaluate(trust, assume(stranger)) != ALLOW, stranger
    assert stack.exports["logReaderRoleArn"].endswith(f":role/{LOG_READER}")


def test_without_named_principals_no_reader_is_created():
    stack = run_security()
    assert not [r for r in stack.of_type("aws:iam/role:Role") if r.name == "log-reader"]
    assert "logReaderRoleArn" not in stack.exports


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{OTHER_MEMBER_ACCOUNT}:role/org-trail-operator",
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/*",
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-*",
    ],
)
def test_a_principal_that_is_not_one_named_role_of_the_management_account_is_refused(arn):
    with pytest.raises(pulumi.RunError, match=r"org-trail:logReaderPrincipalArns\[0\]"):
        run_security(security_config(logReaderPrincipalArns=[arn]))


@pytest.fixture
def readers(monkeypatch) -> list:
    """The accounts the commands read the central bucket through (--log-bucket-role-arn)."""
    made = []

    def recording(account, role_arn):
        reader = bucket_reader(account, role_arn)
        made.append(reader)
        return reader

    for command in (cutover_command, verify_command):
        monkeypatch.setattr(command, "bucket_reader", recording)
    return made


def test_the_reader_allows_every_call_verify_and_cutover_make_through_it(
    org, tmp_path, readers, capsys
):
    """Both commands run as the README has them, with --log-bucket-role-arn; every call made
    with the reader's credentials is evaluated against the policy the stack gives it."""
    deliver_for(org, ACTIVE)
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    role = ["--log-bucket-role-arn", security_role(org)]
    with recorded_calls() as calls:
        main([*cli(path), *role, "--json"])
        verify = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME]
        main([*verify, "--region", "us-east-1", *role, "--json"])
    capsys.readouterr()
    keys = {reader.credentials["AccessKeyId"] for reader in readers}
    assert len(readers) == 2
    through_reader = [c for c in calls if c.access_key in keys]
    assert {c.operation for c in through_reader} >= {
        "GetTable",
        "GetBucketPolicy",
        "DescribeKey",
        "ListObjectsV2",
    }
    policy = log_reader_policy(
        org.organization, [CENTRAL_BUCKET, f"{CENTRAL_BUCKET}-access"], org.key_arn, DATABASE
    )
    for request in requests_of(through_reader, org.organization):
        assert evaluate(policy, request) == ALLOW, request


def test_the_verify_workflows_policy_allows_every_call_verify_makes_from_management(
    org, readers, capsys
):
    """The management stack's output verifyWorkflowPolicy, for the scheduled workflow's OIDC
    role: every call verify makes with the management account's own credentials."""
    from orgtrail.contract.policy_documents import ALARM_TOPIC, verify_workflow_policy

    deliver_for(org, ACTIVE)
    role = ["--log-bucket-role-arn", security_role(org)]
    verify = ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME]
    with recorded_calls() as calls:
        main([*verify, "--region", "us-east-1", *role, "--json"])
    capsys.readouterr()
    management = [c for c in calls if c.access_key == org.key["AccessKeyId"]]
    assert {c.operation for c in management} >= {"ListAccounts", "DescribeTrails", "AssumeRole"}
    policy = verify_workflow_policy(org.organization, ALARM_TOPIC, org.key_arn)
    # The emulated organisation's reader is its member role; the stack's is org-trail-log-reader.
    reader = security_role(org)
    for request in requests_of(management, org.organization, account=MANAGEMENT):
        if request.resource == reader:
            request = replace(request, resource=reader.replace(reader.split("/")[-1], LOG_READER))
        assert evaluate(policy, request) == ALLOW, request


def test_the_management_stack_exports_the_verify_workflows_policy(management):
    policy = json.loads(management.exports["verifyWorkflowPolicy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadTheLogsThroughTheLogReader"]["Resource"].endswith(f":role/{LOG_READER}")
    assert statements["TellTheAlarmTopic"]["Action"] == "sns:Publish"
    written = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [
        a
        for a in written
        if a.split(":")[1].startswith(("Put", "Delete", "Stop", "Update", "Create"))
    ]
