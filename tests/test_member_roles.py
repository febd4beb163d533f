"""The roles inventory, cutover and the previews assume in member accounts are created by
the management stack in every member account, present and future (a service-managed
StackSet with automatic deployment), trusted by named roles of the management account
only, and allow every call those commands really make there (recorded against moto)."""

import json
from datetime import timedelta

import pulumi
import pytest

from orgtrail.__main__ import main
from orgtrail.contract.policy_documents import MEMBER_OPERATOR
from orgtrail.offline.simulate import MockOrganization, simulate
from orgtrail.ops.aws import Account
from orgtrail.policy_eval import ALLOW, Request, evaluate
from tests.support.aws_calls import in_account, recorded_calls, requests_of
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_STACK,
    management_config,
    run_security,
)
from tests.test_cutover import DAY, NOW, cli, payments_trail, write_stack
from tests.test_management_stack import LEGACY

OPERATOR = f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-operator"
PREVIEWER = f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/org-trail-preview"
ROLES = {"operatorPrincipalArns": [OPERATOR], "previewPrincipalArns": [PREVIEWER]}


def deploy(config: dict, organization: MockOrganization | None = None):
    return simulate(
        "management",
        config,
        caller_account_id=MANAGEMENT_ACCOUNT,
        stack_outputs={SECURITY_STACK: run_security().exports},
        organization=organization,
    )


@pytest.fixture(scope="module")
def stack():
    config = management_config(
        memberRoles=ROLES, memberPreviewRoleName="OrgTrailPreview", legacyTrails=LEGACY
    )
    return deploy(config)


def template(stack) -> dict:
    stack_set = stack.one("aws:cloudformation/stackSet:StackSet")
    return json.loads(stack_set.inputs["templateBody"])


def role(stack, logical: str, account: str = MEMBER_ACCOUNT) -> dict:
    return in_account(template(stack)["Resources"][logical]["Properties"], account)


def assume(role_arn: str, principal: str) -> Request:
    return Request(
        "sts:AssumeRole", role_arn, principal_arn=principal, context={"aws:PrincipalArn": principal}
    )


def test_every_member_account_present_and_future_gets_the_roles(stack):
    stack_set = stack.one("aws:cloudformation/stackSet:StackSet")
    assert stack_set.inputs["permissionModel"] == "SERVICE_MANAGED"
    assert stack_set.inputs["autoDeployment"] == {
        "enabled": True,
        "retainStacksOnAccountRemoval": False,
    }
    assert stack_set.inputs["capabilities"] == ["CAPABILITY_NAMED_IAM"]
    instance = stack.one("aws:cloudformation/stackSetInstance:StackSetInstance")
    root = instance.inputs["deploymentTargets"]["organizationalUnitIds"]
    assert len(root) == 1 and root[0].startswith("r-")  # the root: every account under it
    assert set(template(stack)["Resources"]) == {"OperatorRole", "PreviewRole"}


@pytest.mark.parametrize(
    ("logical", "name", "trusted"),
    [("OperatorRole", MEMBER_OPERATOR, OPERATOR), ("PreviewRole", "OrgTrailPreview", PREVIEWER)],
)
def test_each_role_is_trusted_by_its_named_role_only(stack, logical, name, trusted):
    properties = role(stack, logical)
    assert properties["RoleName"] == name
    trust = properties["AssumeRolePolicyDocument"]
    arn = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/{name}"
    assert evaluate(trust, assume(arn, trusted)) == ALLOW
    for other in ({OPERATOR, PREVIEWER} - {trusted}) | {
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/admin",
        f"arn:aws:iam::{MEMBER_ACCOUNT}:role/org-trail-operator",
    }:
        assert evaluate(trust, assume(arn, other)) != ALLOW, other


def in_bucket_of(account: str, action: str, resource: str) -> Request:
    return Request(action, resource, context={"s3:ResourceAccount": account})


def test_the_preview_role_reads_only_its_own_accounts_buckets(stack):
    (policy,) = role(stack, "PreviewRole")["Policies"]
    document = policy["PolicyDocument"]
    for trail in LEGACY:
        bucket = f"arn:aws:s3:::{trail['bucket']}"
        read = in_bucket_of(MEMBER_ACCOUNT, "s3:GetLifecycleConfiguration", bucket)
        assert evaluate(document, read) == ALLOW
        # Another account's bucket of the same name, or an owner not said, is not read.
        other = in_bucket_of(MANAGEMENT_ACCOUNT, "s3:GetLifecycleConfiguration", bucket)
        assert evaluate(document, other) != ALLOW
        unsaid = Request("s3:GetLifecycleConfiguration", bucket)
        assert evaluate(document, unsaid) != ALLOW
        for action in ("s3:PutLifecycleConfiguration", "cloudtrail:StopLogging"):
            assert evaluate(document, in_bucket_of(MEMBER_ACCOUNT, action, bucket)) != ALLOW


def test_the_member_policies_stay_one_size_however_many_legacy_buckets(stack):
    """5 or 5,000 legacy buckets: IAM's 10,240-character inline policy limit never comes near."""
    few = deploy(management_config(memberRoles=ROLES, memberPreviewRoleName="OrgTrailPreview"))
    assert template(few) == template(stack)


def test_no_roles_without_named_principals_and_a_preview_role_needs_its_name():
    assert not deploy(management_config()).of_type("aws:cloudformation/stackSet:StackSet")
    with pytest.raises(
        pulumi.RunError, match=r"memberRoles.previewPrincipalArns.*memberPreviewRoleName"
    ):
        deploy(management_config(memberRoles={"previewPrincipalArns": [PREVIEWER]}))


def test_stacksets_trusted_access_is_a_prerequisite_only_with_member_roles():
    without = MockOrganization(
        organization_id=ORGANIZATION_ID, trusted_services=("cloudtrail.amazonaws.com",)
    )
    deploy(management_config(), without)
    with pytest.raises(pulumi.RunError, match="aws cloudformation activate-organizations-access"):
        deploy(management_config(memberRoles={"operatorPrincipalArns": [OPERATOR]}), without)


@pytest.fixture
def assumed(monkeypatch) -> dict[str, str]:
    """Access key -> account, for every role the commands assume."""
    keys: dict[str, str] = {}
    original = Account.assume_role_arn

    def recording(self, role_arn):
        account = original(self, role_arn)
        keys[account.credentials["AccessKeyId"]] = account.account_id
        return account

    monkeypatch.setattr(Account, "assume_role_arn", recording)
    return keys


def test_the_operator_role_allows_every_call_inventory_and_cutover_make_in_a_member(
    stack, org, tmp_path, capsys, assumed
):
    """inventory, then cutover --apply, against moto; each call made with a member account's
    credentials is evaluated against the operator policy as that account's stack has it."""
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    with recorded_calls() as calls:
        main(["inventory", "--json"])
        assert main([*cli(path), "--apply", "--yes", "--json"]) == 0
    capsys.readouterr()
    in_members = [(c, assumed[c.access_key]) for c in calls if c.access_key in assumed]
    assert {c.operation for c, _ in in_members} >= {
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "StopLogging",
        "GetBucketLifecycleConfiguration",
    }
    for call, account in in_members:
        (policy,) = role(stack, "OperatorRole", account)["Policies"]
        for request in requests_of([call], org.organization, account=account):
            assert evaluate(policy["PolicyDocument"], request) == ALLOW, (account, request)


def test_the_operator_role_stops_only_its_own_accounts_trails(stack):
    (policy,) = role(stack, "OperatorRole")["Policies"]
    document = policy["PolicyDocument"]
    own = f"arn:aws:cloudtrail:eu-west-1:{MEMBER_ACCOUNT}:trail/default"
    organization_trail = f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT_ACCOUNT}:trail/org-trail"
    assert evaluate(document, Request("cloudtrail:StopLogging", own)) == ALLOW
    assert evaluate(document, Request("cloudtrail:StopLogging", organization_trail)) != ALLOW
    for action in ("cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "s3:DeleteBucket"):
        assert evaluate(document, Request(action, own)) != ALLOW


def test_cutover_assumes_the_role_named_on_the_command_line(org, tmp_path, capsys, monkeypatch):
    roles = []
    original = Account.assume
    monkeypatch.setattr(
        Account,
        "assume",
        lambda self, account, role: roles.append(role) or original(self, account, role),
    )
    org.deliver_every("payments", "eu-west-1", NOW - DAY - timedelta(minutes=30), NOW)
    path = write_stack(tmp_path, org, [payments_trail(org)])
    main([*cli(path), "--json"])
    main([*cli(path), "--role-name", MEMBER_OPERATOR, "--json"])
    capsys.readouterr()
    assert set(roles) == {"OrganizationAccountAccessRole", MEMBER_OPERATOR}
    assert roles.index(MEMBER_OPERATOR) > roles.index("OrganizationAccountAccessRole")
    with pytest.raises(SystemExit):
        main([*cli(path), "--role-name", "bad/name"])


def test_the_preview_role_can_read_the_legacy_buckets_rules_through_cloud_control(stack):
    (policy,) = role(stack, "PreviewRole")["Policies"]
    document = policy["PolicyDocument"]
    assert evaluate(document, Request("cloudformation:GetResource", "*")) == ALLOW
    bucket = "arn:aws:s3:::payments-trail"
    tagging = in_bucket_of(MEMBER_ACCOUNT, "s3:GetBucketTagging", bucket)
    assert evaluate(document, tagging) == ALLOW
    an_object = in_bucket_of(MEMBER_ACCOUNT, "s3:GetObject", f"{bucket}/AWSLogs/x.json.gz")
    assert evaluate(document, an_object) != ALLOW
