"""Build stack configs the way the engine passes them, and run the program on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from orgtrail.contract.config import config_key, to_engine_value
from orgtrail.offline.simulate import Resource, Simulation, simulate

ORGANIZATION_ID = "o-a1b2c3d4e5"
MANAGEMENT_ACCOUNT = "111111111111"
SECURITY_ACCOUNT = "222222222222"
MEMBER_ACCOUNT = "333333333333"
OTHER_MEMBER_ACCOUNT = "444444444444"
REGION = "us-east-1"
TRAIL_NAME = "org-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT_ACCOUNT}:trail/{TRAIL_NAME}"
LOG_BUCKET = "acme-trail-logs"
ACCESS_LOG_BUCKET = "acme-trail-access-logs"
SECURITY_STACK = "acme/org-trail/security"

SHARED = {
    "organizationId": ORGANIZATION_ID,
    "managementAccountId": MANAGEMENT_ACCOUNT,
    "securityAccountId": SECURITY_ACCOUNT,
    "trailName": TRAIL_NAME,
}
SECURITY = {
    **SHARED,
    "logBucketName": LOG_BUCKET,
    "accessLogBucketName": ACCESS_LOG_BUCKET,
    "objectLock": {"mode": "COMPLIANCE", "days": 400},
    "lifecycle": {"archiveAfterDays": 90, "storageClass": "GLACIER_IR"},
}
DEPLOY_ROLE = f"arn:aws:iam::{SECURITY_ACCOUNT}:role/security-stack-deploy"
BREAK_GLASS_ROLE = f"arn:aws:iam::{SECURITY_ACCOUNT}:role/break-glass"
MANAGEMENT = {
    **SHARED,
    "securityStack": SECURITY_STACK,
    "legacyTrails": [],
    "guardrails": {"exemptRoleArns": [DEPLOY_ROLE, BREAK_GLASS_ROLE]},
}


def engine_config(
    base: dict[str, Any], overrides: dict[str, Any] | None = None, region: str = REGION
) -> dict[str, str]:
    """Config as the engine hands it over; an override of None removes the key."""
    values = {**base, **(overrides or {})}
    config = {
        config_key(key): to_engine_value(value)
        for key, value in values.items()
        if value is not None
    }
    if region:
        config["aws:region"] = region
    return config


def stack_file(
    directory: Path,
    stack: str,
    *,
    organization_id: str,
    management_account: str,
    security_account: str,
    **keys: Any,
) -> Path:
    """A Pulumi.<stack>.yaml as an operator writes it (native YAML values), for the CLI."""
    config = {
        "aws:region": REGION,
        config_key("organizationId"): organization_id,
        config_key("managementAccountId"): management_account,
        config_key("securityAccountId"): security_account,
        **{config_key(key): value for key, value in keys.items()},
    }
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def management_stack_file(directory: Path, **keys: Any) -> Path:
    return stack_file(directory, "management", securityStack=SECURITY_STACK, **keys)


def security_stack_file(directory: Path, **keys: Any) -> Path:
    return stack_file(directory, "security", **keys)


def security_config(**overrides: Any) -> dict[str, str]:
    return engine_config(SECURITY, overrides)


def management_config(**overrides: Any) -> dict[str, str]:
    return engine_config(MANAGEMENT, overrides)


def run_security(
    config: dict[str, str] | None = None, caller: str = SECURITY_ACCOUNT
) -> Simulation:
    return simulate("security", config or security_config(), caller_account_id=caller)


def run_management(
    config: dict[str, str] | None = None,
    security_exports: dict[str, Any] | None = None,
    caller: str = MANAGEMENT_ACCOUNT,
) -> Simulation:
    exports = security_exports if security_exports is not None else run_security().exports
    return simulate(
        "management",
        config or management_config(),
        caller_account_id=caller,
        stack_outputs={SECURITY_STACK: exports},
    )


def policy_of(resource: Resource, key: str = "policy") -> dict:
    return json.loads(resource.inputs[key])


def children_of(simulation: Simulation, parent: Resource) -> list[Resource]:
    return [r for r in simulation.resources if r.parent == parent.urn]


def bucket_component(simulation: Simulation, bucket_name: str) -> Resource:
    """The LockedBucket component whose bucket is `bucket_name`."""
    bucket = next(
        r
        for r in simulation.of_type("aws:s3/bucket:Bucket")
        if r.inputs.get("bucket") == bucket_name
    )
    return next(r for r in simulation.resources if r.urn == bucket.parent)


def part_of_bucket(simulation: Simulation, bucket_name: str, type_token: str) -> list[Resource]:
    component = bucket_component(simulation, bucket_name)
    return [r for r in children_of(simulation, component) if r.type == type_token]
