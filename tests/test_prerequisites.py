"""The first `pulumi up -s management` refuses, before any resource, an organisation that
would make it fail halfway (trusted access, policy types, feature set, another
organisation) and a Pulumi CLI too old for the project, naming the command that fixes it."""

import re

import pulumi
import pytest
import yaml

from orgtrail.contract.prerequisites import ENABLED, GUARDRAIL_POLICY_TYPES
from orgtrail.offline.simulate import MockOrganization, simulate, version_satisfies
from orgtrail.project import CHECKOUT, PULUMI_CLI_VERSIONS, READ_ONLY_PREVIEW
from tests.support.stacks import (
    MANAGEMENT_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_STACK,
    management_config,
    run_security,
)

EVERY_TYPE = dict.fromkeys(GUARDRAIL_POLICY_TYPES.values(), ENABLED)


@pytest.fixture(scope="module")
def security_exports():
    return run_security().exports


def deploy(security_exports, organization: MockOrganization, config=None, **options):
    return simulate(
        "management",
        config or management_config(),
        caller_account_id=MANAGEMENT_ACCOUNT,
        stack_outputs={SECURITY_STACK: security_exports},
        organization=organization,
        **options,
    )


def refusal(security_exports, organization: MockOrganization, config=None) -> str:
    with pytest.raises(pulumi.RunError) as raised:
        deploy(security_exports, organization, config)
    message = str(raised.value)
    assert message.startswith("the organization is not ready for the management stack")
    return message


def test_a_ready_organisation_deploys(security_exports):
    sim = deploy(security_exports, MockOrganization(organization_id=ORGANIZATION_ID))
    assert sim.of_type("aws:cloudtrail/trail:Trail")


def test_trusted_access_off_is_refused_with_the_command_that_enables_it(security_exports):
    message = refusal(
        security_exports, MockOrganization(organization_id=ORGANIZATION_ID, trusted_services=())
    )
    assert (
        "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com"
        in message
    )


@pytest.mark.parametrize("policy_type", sorted(set(GUARDRAIL_POLICY_TYPES.values())))
def test_each_policy_type_the_guardrails_need_is_required_on_the_root(
    security_exports, policy_type
):
    types = {t: s for t, s in EVERY_TYPE.items() if t != policy_type}
    message = refusal(
        security_exports, MockOrganization(organization_id=ORGANIZATION_ID, policy_types=types)
    )
    assert re.search(
        rf"policy type {policy_type} is not enabled on the root: `aws organizations "
        rf"enable-policy-type --root-id r-\w+ --policy-type {policy_type}`",
        message,
    )
    assert message.count("policy type ") == 1  # the others are enabled


@pytest.mark.parametrize("status", ["PENDING_ENABLE", "PENDING_DISABLE"])
def test_a_policy_type_not_yet_enabled_is_not_enabled(security_exports, status):
    types = {**EVERY_TYPE, "RESOURCE_CONTROL_POLICY": status}
    message = refusal(
        security_exports, MockOrganization(organization_id=ORGANIZATION_ID, policy_types=types)
    )
    assert f"policy type RESOURCE_CONTROL_POLICY is {status} on the root, not ENABLED" in message


def test_only_the_policy_types_of_guardrails_switched_on_are_needed(security_exports):
    config = management_config(
        guardrails={"blockPublicAccess": False, "dataPerimeter": False, "exemptRoleArns": []}
        | {"protectLogPipeline": False}
    )
    types = {"SERVICE_CONTROL_POLICY": ENABLED}
    deploy(
        security_exports,
        MockOrganization(organization_id=ORGANIZATION_ID, policy_types=types),
        config,
    )
    message = refusal(
        security_exports, MockOrganization(organization_id=ORGANIZATION_ID, policy_types={}), config
    )
    assert "SERVICE_CONTROL_POLICY" in message
    assert "S3_POLICY" not in message and "RESOURCE_CONTROL_POLICY" not in message


def test_every_gap_is_named_at_once(security_exports):
    message = refusal(
        security_exports,
        MockOrganization(
            organization_id="o-zzzzzzzzzz",
            feature_set="CONSOLIDATED_BILLING",
            trusted_services=(),
            policy_types={},
        ),
    )
    assert f"organization o-zzzzzzzzzz, but organizationId is {ORGANIZATION_ID}" in message
    assert "aws organizations enable-all-features" in message
    assert "enable-aws-service-access" in message
    assert message.count("enable-policy-type") == 3


def test_a_pulumi_cli_older_than_the_project_needs_is_refused_naming_the_range(
    security_exports,
):
    with pytest.raises(RuntimeError, match=re.escape(f'"{PULUMI_CLI_VERSIONS}"')):
        deploy(
            security_exports,
            MockOrganization(organization_id=ORGANIZATION_ID),
            cli_version="3.186.0",
        )


@pytest.mark.parametrize(
    ("version", "version_range", "holds"),
    [
        ("3.187.0", ">=3.187.0", True),
        ("3.186.9", ">=3.187.0", False),
        ("4.0.0", ">=3.187.0 <4.0.0", False),
        ("3.1.2", "<3.4.0 || >3.8.0", True),
        ("3.5.0", "<3.4.0 || >3.8.0", False),
        ("3.7.7", ">=3.5.0 !3.7.7", False),
        ("3.1.2", "3.1.2", True),
        ("3.1.2", "=3.1.3", False),
    ],
)
def test_version_ranges_read_as_the_engine_reads_them(version, version_range, holds):
    """blang/semver ParseRange's examples, as the SDK's require_pulumi_version documents them."""
    assert version_satisfies(version, version_range) is holds


def test_only_the_pull_request_preview_step_asks_for_read_only_roles():
    """The variable selects the preview roles; `pulumi up` never sees it from this project."""
    asking = []
    for path in sorted((CHECKOUT / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job["steps"]:
                if READ_ONLY_PREVIEW in (step.get("env") or {}):
                    asking.append((path.name, name, step["with"]["command"]))
                    assert step["env"][READ_ONLY_PREVIEW] == "true"
    assert asking == [("preview.yml", "preview", "preview")]
