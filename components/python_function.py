"""A Python Lambda function the program deploys, with what each needs around it: its own
log group (so its retention is ours, not CloudWatch's "never expire"), and its own role
with one inline policy. Children are named `<prefix>-logs`, `-role`, `-policy` and
`<prefix>` itself, under the calling component."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_aws as aws

RUNTIME = "python3.12"


def python_function(
    prefix: str,
    *,
    parent: pulumi.Resource,
    function_name: str,
    description: str,
    handler: Path,
    trust_policy: str,
    policy: pulumi.Input[str],
    environment: Mapping[str, pulumi.Input[str]],
    timeout: int,
    log_retention_days: int,
) -> aws.lambda_.Function:
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{prefix}-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=log_retention_days,
        opts=child,
    )
    role = aws.iam.Role(
        f"{prefix}-role", name=function_name, assume_role_policy=trust_policy, opts=child
    )
    aws.iam.RolePolicy(f"{prefix}-policy", role=role.id, policy=policy, opts=child)
    return aws.lambda_.Function(
        prefix,
        name=function_name,
        description=description,
        runtime=RUNTIME,
        handler="handler.handle",
        code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(str(handler))}),
        role=role.arn,
        timeout=timeout,
        memory_size=128,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(environment)),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group]),
    )
