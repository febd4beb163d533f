"""Organizations guardrails: what each policy says, where it attaches, and what it never locks out."""

import json

import pytest

from components.guardrails import lockouts
from orgtrail.contract.config import ConfigError, load_settings
from orgtrail.contract.policy_documents import log_data_perimeter_rcp
from orgtrail.policy_eval import DENY, Request, evaluate
from tests.support.stacks import (
    ACCESS_LOG_BUCKET,
    BREAK_GLASS_ROLE,
    DEPLOY_ROLE,
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_ACCOUNT,
    management_config,
    run_management,
)

POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"


def policies(sim) -> dict[str, dict]:
    return {r.inputs["name"]: r for r in sim.of_type(POLICY)}


def content(sim, name: str) -> dict:
    return json.loads(policies(sim)[name].inputs["content"])


def attached(sim) -> dict[str, set[str]]:
    by_id = {r.id: r.inputs["name"] for r in sim.of_type(POLICY)}
    found: dict[str, set[str]] = {}
    for attachment in sim.of_type(ATTACHMENT):
        found.setdefault(by_id[attachment.inputs["policyId"]], set()).add(
            attachment.inputs["targetId"]
        )
    return found


def test_every_guardrail_is_on_by_default_with_its_type(management):
    types = {name: r.inputs["type"] for name, r in policies(management).items()}
    assert types == {
        "org-trail-block-public-access": "S3_POLICY",
        "org-trail-deny-leave-organization": "SERVICE_CONTROL_POLICY",
        "org-trail-protect-log-pipeline": "SERVICE_CONTROL_POLICY",
        "org-trail-log-data-perimeter": "RESOURCE_CONTROL_POLICY",
    }
    assert all(r.protect for r in management.of_type(POLICY) + management.of_type(ATTACHMENT))


def test_block_public_access_is_the_documented_s3_policy(management):
    assert content(management, "org-trail-block-public-access") == {
        "s3_attributes": {"public_access_block_configuration": {"@@assign": "all"}}
    }


def test_organisation_wide_guardrails_attach_to_the_root_and_pipeline_ones_to_security(management):
    places = attached(management)
    (root,) = places["org-trail-block-public-access"]
    assert root.startswith("r-")
    assert places["org-trail-deny-leave-organization"] == {root}
    assert places["org-trail-protect-log-pipeline"] == {SECURITY_ACCOUNT}
    assert places["org-trail-log-data-perimeter"] == {SECURITY_ACCOUNT}


def test_targets_and_switches_come_from_config(security):
    guardrails = {
        "exemptRoleArns": [DEPLOY_ROLE],
        "targets": ["ou-ab12-cd34ef56", MEMBER_ACCOUNT],
        "dataPerimeter": False,
        "blockPublicAccess": False,
    }
    sim = run_management(management_config(guardrails=guardrails), security.exports)
    assert set(policies(sim)) == {
        "org-trail-deny-leave-organization",
        "org-trail-protect-log-pipeline",
    }
    assert attached(sim)["org-trail-deny-leave-organization"] == {
        "ou-ab12-cd34ef56",
        MEMBER_ACCOUNT,
    }
    off = dict.fromkeys(
        ("blockPublicAccess", "protectLogPipeline", "denyLeaveOrganization", "dataPerimeter"), False
    )
    sim = run_management(management_config(guardrails=off), security.exports)
    assert not sim.of_type("org-trail:guardrails:Guardrails")


def scp_denies(scp: dict, action: str, resource: str, principal: str) -> bool:
    request = Request(action, resource, context={"aws:PrincipalArn": principal})
    return evaluate(scp, request) == DENY


def test_the_security_account_cannot_take_the_pipeline_apart_except_through_the_exempt_roles(
    management,
):
    scp = content(management, "org-trail-protect-log-pipeline")
    admin = f"arn:aws:iam::{SECURITY_ACCOUNT}:role/Administrator"
    key = next(s for s in scp["Statement"] if s["Sid"] == "ProtectTrailKey")["Resource"]
    for bucket in (LOG_BUCKET, ACCESS_LOG_BUCKET):
        for action in ("s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"):
            assert scp_denies(scp, action, f"arn:aws:s3:::{bucket}", admin), (action, bucket)
            assert not scp_denies(scp, action, f"arn:aws:s3:::{bucket}", DEPLOY_ROLE)
        assert scp_denies(scp, "s3:BypassGovernanceRetention", f"arn:aws:s3:::{bucket}/k", admin)
    for action in (
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:PutKeyPolicy",
        "kms:UpdateAlias",
    ):
        assert scp_denies(scp, action, key, admin)
        assert not scp_denies(scp, action, key, BREAK_GLASS_ROLE)
    # Other buckets and keys of the account are not its business.
    assert not scp_denies(scp, "s3:DeleteBucket", "arn:aws:s3:::team-data", admin)


def test_no_member_account_can_leave(management):
    scp = content(management, "org-trail-deny-leave-organization")
    member_admin = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/Administrator"
    assert scp_denies(scp, "organizations:LeaveOrganization", "*", member_admin)


def test_the_logs_answer_only_the_organisation_and_aws_services(management):
    rcp = content(management, "org-trail-log-data-perimeter")
    key = f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/{ORGANIZATION_ID}/{MEMBER_ACCOUNT}/x.json.gz"

    def decision(org: str | None, service: str | None = None) -> str:
        context = {"aws:PrincipalIsAWSService": "true" if service else "false"}
        if org:
            context["aws:PrincipalOrgID"] = org
        principal = None if service else "arn:aws:iam::999999999999:role/anyone"
        return evaluate(rcp, Request("s3:GetObject", key, service, principal, context))

    assert decision("o-zzzzzzzzzz") == DENY
    assert decision(None) == DENY
    key_arn = next(r for r in rcp["Statement"][0]["Resource"] if ":kms:" in r)
    outsider = Request(
        "kms:Decrypt",
        key_arn,
        principal_arn="arn:aws:iam::999999999999:role/anyone",
        context={"aws:PrincipalOrgID": "o-zzzzzzzzzz", "aws:PrincipalIsAWSService": "false"},
    )
    assert evaluate(rcp, outsider) == DENY
    assert decision(ORGANIZATION_ID) != DENY
    assert decision(None, service="cloudtrail.amazonaws.com") != DENY


def test_guardrails_that_would_lock_out_cloudtrail_or_the_deployer_are_refused():
    settings = load_settings(management_config(), "management")
    org = settings.organization
    broken = log_data_perimeter_rcp(org, [LOG_BUCKET, ACCESS_LOG_BUCKET], "arn:aws:kms:x")
    del broken["Statement"][0]["Condition"]["BoolIfExists"]
    found = lockouts(org, settings.guardrails, None, broken, [LOG_BUCKET, ACCESS_LOG_BUCKET])
    assert "the RCP would deny CloudTrail's delivery" in found
    assert "the RCP would deny S3 server access log delivery" in found
    scp = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    found = lockouts(org, settings.guardrails, scp, None, [LOG_BUCKET])
    assert f"the SCP would stop {DEPLOY_ROLE} from managing {LOG_BUCKET}" in found


@pytest.mark.parametrize(
    "roles",
    [[], [f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/deploy"]],
    ids=["none", "only another account's"],
)
def test_protecting_the_pipeline_needs_an_exempt_role_in_the_security_account(roles):
    with pytest.raises(ConfigError, match="lock out the role that deploys the security stack"):
        load_settings(management_config(guardrails={"exemptRoleArns": roles}), "management")
    load_settings(
        management_config(guardrails={"exemptRoleArns": roles, "protectLogPipeline": False}),
        "management",
    )


def test_guardrail_policies_fit_organizations_limits(management):
    for name, policy in policies(management).items():
        assert len(policy.inputs["content"]) <= 5120, name
