"""What the organisation must allow before the management stack creates anything.

Without trusted access for CloudTrail, `CreateTrail` with `IsOrganizationTrail` fails
("CloudTrail service access is not enabled for your organization": the CloudTrail user
guide, "Enabling trusted access with CloudTrail", says the console enables it and the
CLI or API do not). Without a policy type enabled on the root, `AttachPolicy` fails with
`PolicyTypeNotEnabledException` ("Organizations API Reference", AttachPolicy, Errors),
and a type in `PENDING_ENABLE` is not enabled yet (`PolicyTypeSummary.Status`: ENABLED,
PENDING_ENABLE, PENDING_DISABLE). Trusted access and policies both need the
organisation's `ALL` feature set (`DescribeOrganization`, `FeatureSet`). Each would stop
the first `pulumi up` halfway; the program reads them first and refuses, naming the
command that fixes each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orgtrail.contract.config import Guardrails, Organization

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
# Service-managed StackSets (the member roles) need trusted access for this principal
# (CloudFormation User Guide, "Activate trusted access for stack sets with Organizations").
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"

# Each guardrail's Organizations policy type; components/guardrails.py creates them as such.
GUARDRAIL_POLICY_TYPES = {
    "block_public_access": "S3_POLICY",
    "deny_leave_organization": "SERVICE_CONTROL_POLICY",
    "protect_log_pipeline": "SERVICE_CONTROL_POLICY",
    "data_perimeter": "RESOURCE_CONTROL_POLICY",
}
ENABLED = "ENABLED"


@dataclass(frozen=True)
class OrganizationState:
    """What `DescribeOrganization`, `ListAWSServiceAccessForOrganization` and `ListRoots`
    say (through the provider's `aws.organizations.get_organization` data source)."""

    organization_id: str
    feature_set: str
    trusted_services: frozenset[str]
    root_id: str
    # Policy type -> its status on the root; a type never enabled is absent.
    policy_types: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_data_source(cls, result) -> OrganizationState:
        """The data source's result (snake_case attributes of the generated SDK)."""
        roots: Sequence = result.roots or []
        if len(roots) != 1:
            # Organizations has exactly one root; anything else was not read right.
            raise ValueError(f"the organization reports {len(roots)} roots, expected one")
        root = roots[0]
        return cls(
            organization_id=result.id or "",
            feature_set=result.feature_set or "",
            trusted_services=frozenset(result.aws_service_access_principals or ()),
            root_id=root.id,
            policy_types={p.type: p.status for p in root.policy_types or ()},
        )


def needed_policy_types(guardrails: Guardrails) -> list[str]:
    """The policy types the configured guardrails attach, each once, in a stable order."""
    wanted = [t for name, t in GUARDRAIL_POLICY_TYPES.items() if getattr(guardrails, name)]
    return sorted(set(wanted))


def missing_prerequisites(
    state: OrganizationState,
    organization: Organization,
    guardrails: Guardrails,
    member_roles: bool = False,
) -> list[str]:
    """Every prerequisite the organisation lacks, each with the command that fixes it."""
    problems = []
    if state.organization_id != organization.organization_id:
        problems.append(
            f"the credentials belong to organization {state.organization_id or '(none read)'}, "
            f"but organizationId is {organization.organization_id}: run with the management "
            "account of that organisation, or correct organizationId in both stacks"
        )
    if state.feature_set != "ALL":
        problems.append(
            f"the organisation's feature set is {state.feature_set or '(not read)'}, policies "
            "need ALL: `aws organizations enable-all-features` (every member account must "
            "accept the handshake)"
        )
    if CLOUDTRAIL_PRINCIPAL not in state.trusted_services:
        problems.append(
            "trusted access for CloudTrail is off, so CreateTrail cannot make an organization "
            "trail: `aws organizations enable-aws-service-access --service-principal "
            f"{CLOUDTRAIL_PRINCIPAL}`"
        )
    if member_roles and STACKSETS_PRINCIPAL not in state.trusted_services:
        problems.append(
            "memberRoles are deployed by a service-managed StackSet, which needs trusted "
            "access for CloudFormation StackSets: `aws cloudformation "
            "activate-organizations-access` (or `aws organizations enable-aws-service-access "
            f"--service-principal {STACKSETS_PRINCIPAL}`)"
        )
    for policy_type in needed_policy_types(guardrails):
        status = state.policy_types.get(policy_type)
        if status == ENABLED:
            continue
        fix = (
            f"`aws organizations enable-policy-type --root-id {state.root_id} "
            f"--policy-type {policy_type}`"
        )
        if status is None:
            problems.append(f"policy type {policy_type} is not enabled on the root: {fix}")
        else:
            problems.append(
                f"policy type {policy_type} is {status} on the root, not ENABLED: wait until "
                f"`aws organizations list-roots` shows it ENABLED (or run {fix}), then run again"
            )
    return problems
