"""The detections: one Athena SQL file per CIS monitoring item in queries/ (package data).

Kept free of heavy imports: the Pulumi program reads it to create one Athena
named query per file, the local engine to run them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"  # package data


# The detection over Insights records (the cloudtrail_insights table); every other one is a
# CIS monitoring item over events, with a CloudWatch alarm of its own (components/cis_alarms.py).
# Insights events are told one by one instead (components/trail_alerts.py).
INSIGHTS = "insights"


def detections(directory: Path = QUERIES_DIR) -> dict[str, Path]:
    return {path.stem: path for path in sorted(directory.glob("*.sql"))}


def cis_detections(directory: Path = QUERIES_DIR) -> dict[str, Path]:
    return {name: path for name, path in detections(directory).items() if name != INSIGHTS}


def reports(directory: Path = QUERIES_DIR) -> dict[str, Path]:
    """Athena named queries that are not detections (reports/): `query --report` runs them."""
    return {path.stem: path for path in sorted((directory / "reports").glob("*.sql"))}


def description(path: Path) -> str:
    """The first comment line of the file: what the detection finds."""
    return path.read_text().splitlines()[0].removeprefix("--").strip()


@dataclass(frozen=True)
class Selection:
    """The events a name-list detection selects: its one definition.

    The CloudWatch metric filters are built from it (components/cis_alarms.py);
    the Athena SQL files stay readable on their own in the console, and a test
    compares their full lists with it; the test corpus plants one event per name.
    """

    service: str  # the eventSource that emits these events
    names: tuple[str, ...]
    pins_source: bool = True  # whether the detection also requires eventSource = service


IAM_POLICY_EVENTS = (
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "SetDefaultPolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
    "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
)  # fmt: skip
TRAIL_EVENTS = ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
KEY_EVENTS = ("DisableKey", "ScheduleKeyDeletion")
BUCKET_POLICY_EVENTS = (
    "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication",
    "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication",
)  # fmt: skip
CONFIG_EVENTS = (
    "StopConfigurationRecorder",
    "DeleteDeliveryChannel",
    "PutDeliveryChannel",
    "PutConfigurationRecorder",
)
SECURITY_GROUP_EVENTS = (
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup",
)  # fmt: skip
NACL_EVENTS = (
    "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
)  # fmt: skip
GATEWAY_EVENTS = (
    "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway",
    "DeleteInternetGateway", "DetachInternetGateway",
)  # fmt: skip
ROUTE_TABLE_EVENTS = (
    "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
    "DeleteRoute", "DisassociateRouteTable",
)  # fmt: skip
VPC_EVENTS = (
    "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
    "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
    "DisableVpcClassicLink", "EnableVpcClassicLink",
)  # fmt: skip
# The CIS 4.15 list plus the three names Prowler's check requires (all 21 must be present).
ORGANIZATIONS_EVENTS = (
    "AcceptHandshake", "AttachPolicy", "CancelHandshake", "CreateAccount", "CreateOrganization",
    "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization",
    "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnableAllFeatures",
    "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
    "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
)  # fmt: skip


SELECTIONS: dict[str, Selection] = {
    "iam-policy-changes": Selection("iam.amazonaws.com", IAM_POLICY_EVENTS),
    "cloudtrail-config-changes": Selection("cloudtrail.amazonaws.com", TRAIL_EVENTS, False),
    "cmk-disable-or-deletion": Selection("kms.amazonaws.com", KEY_EVENTS),
    "s3-bucket-policy-changes": Selection("s3.amazonaws.com", BUCKET_POLICY_EVENTS),
    "config-changes": Selection("config.amazonaws.com", CONFIG_EVENTS),
    "security-group-changes": Selection("ec2.amazonaws.com", SECURITY_GROUP_EVENTS, False),
    "nacl-changes": Selection("ec2.amazonaws.com", NACL_EVENTS, False),
    "network-gateway-changes": Selection("ec2.amazonaws.com", GATEWAY_EVENTS, False),
    "route-table-changes": Selection("ec2.amazonaws.com", ROUTE_TABLE_EVENTS),
    "vpc-changes": Selection("ec2.amazonaws.com", VPC_EVENTS, False),
    "organizations-changes": Selection("organizations.amazonaws.com", ORGANIZATIONS_EVENTS),
}
