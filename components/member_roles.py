"""MemberRoles: the roles the operator commands and the previews assume in member accounts,
in every member account, present and future.

A service-managed StackSet with automatic deployment, as AWS's own multi-account tools
deploy roles: CloudFormation creates the stack in every account of the organisation's
root, and in each account that joins later (CloudFormation User Guide, "Manage automatic
deployments for a CloudFormation StackSet that uses service-managed permissions"). IAM is
global, so one region is enough. StackSets never deploy to the management account itself:
there the commands use the caller's own credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from orgtrail.contract.config import MemberRoles as MemberRoleSettings
from orgtrail.contract.config import Organization
from orgtrail.contract.policy_documents import MEMBER_ROLES_STACK_SET, member_roles_template


@dataclass
class MemberRolesArgs:
    organization: Organization
    settings: MemberRoleSettings
    preview_role_name: str | None
    root_id: str


class MemberRoles(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: MemberRolesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:member_roles:MemberRoles", name, None, opts)
        org, roles = args.organization, args.settings
        template = member_roles_template(
            org,
            roles.operator_principal_arns,
            roles.preview_principal_arns,
            args.preview_role_name,
        )
        stack_set = aws.cloudformation.StackSet(
            name,
            name=MEMBER_ROLES_STACK_SET,
            description="org-trail: roles for inventory, cutover and previews in every member account",
            permission_model="SERVICE_MANAGED",
            auto_deployment=aws.cloudformation.StackSetAutoDeploymentArgs(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=["CAPABILITY_NAMED_IAM"],
            template_body=json.dumps(template, sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.cloudformation.StackSetInstance(
            f"{name}-organization",
            stack_set_name=stack_set.name,
            deployment_targets=aws.cloudformation.StackSetInstanceDeploymentTargetsArgs(
                organizational_unit_ids=[args.root_id]
            ),
            region=org.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"stackSet": stack_set.name})
