"""Run the Pulumi program offline under the SDK's mock monitor and record what it registers.

This is the seam the offline plan, the tests and the policy checks share: the
real `__main__.py`, the real components and the real pulumi-aws SDK, with the
engine replaced by `pulumi.runtime.set_mocks`. The mocks answer what a
provider would compute (ARNs, IDs) deterministically, so two runs of the same
config print the same plan.
"""

from __future__ import annotations

import gc
import hashlib
import json
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from orgtrail.contract.config import partition_of
from orgtrail.contract.prerequisites import (
    CLOUDTRAIL_PRINCIPAL,
    ENABLED,
    GUARDRAIL_POLICY_TYPES,
    STACKSETS_PRINCIPAL,
)
from orgtrail.project import CHECKOUT as PROJECT_DIR
from orgtrail.project import NAME as PROJECT
from orgtrail.project import PULUMI_CLI_VERSIONS

STACK_REFERENCE = "pulumi:pulumi:StackReference"
# The CLI the offline plan stands in for: the oldest the program accepts.
OFFLINE_CLI_VERSION = PULUMI_CLI_VERSIONS.removeprefix(">=")


@dataclass(frozen=True)
class MockOrganization:
    """What Organizations answers the plan. By default an organisation ready for the stacks
    (the state docs/deploying.md's prerequisites leave it in): all features, trusted access
    for CloudTrail, every policy type the guardrails attach enabled on the root."""

    organization_id: str | None = None  # None: the config's organizationId
    feature_set: str = "ALL"
    trusted_services: tuple[str, ...] = (CLOUDTRAIL_PRINCIPAL, STACKSETS_PRINCIPAL)
    policy_types: Mapping[str, str] = field(
        default_factory=lambda: dict.fromkeys(GUARDRAIL_POLICY_TYPES.values(), ENABLED)
    )
    # Bucket -> its LifecycleConfiguration as Cloud Control describes it; absent: no rules.
    bucket_lifecycles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def version_satisfies(version: str, version_range: str) -> bool:
    """blang/semver's ParseRange, the engine's RequirePulumiVersion: ranges AND-ed by spaces,
    OR-ed by `||`, each `>=`, `>`, `<=`, `<`, `=`, `!` or bare (=) with a full X.Y.Z."""

    def parsed(text: str) -> tuple[int, ...]:
        parts = text.split("-")[0].split("+")[0].split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"{text!r} is not a version X.Y.Z")
        return tuple(int(p) for p in parts)

    compare = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "!": lambda a, b: a != b,
        "=": lambda a, b: a == b,
    }
    have = parsed(version)

    def holds(term: str) -> bool:
        for operator, test in compare.items():
            if term.startswith(operator):
                return test(have, parsed(term[len(operator) :]))
        return have == parsed(term)

    return any(
        all(holds(term) for term in alternative.split())
        for alternative in version_range.split("||")
    )


class OfflineEngine(pulumi_mocks.MockEngine):
    """The SDK's mock engine, also answering RequirePulumiVersion as the CLI does."""

    def __init__(self, cli_version: str):
        super().__init__(None)
        self.cli_version = cli_version

    def RequirePulumiVersion(self, request):
        wanted = request.pulumi_version_range
        if not version_satisfies(self.cli_version, wanted):
            # The CLI's own words (pulumi/pulumi, the engine's RequirePulumiVersion).
            raise RuntimeError(
                f'Pulumi CLI version {self.cli_version} does not satisfy the version range "{wanted}"'
            )


@dataclass
class Resource:
    """One registration, with what the Pulumi engine would also hand a policy pack."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str = ""
    provider: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Simulation:
    stack: str
    resources: list[Resource]
    exports: dict[str, Any]

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_token} {name or ''}, found {len(found)}")
        return found[0]


def _short_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


class OfflineMocks(pulumi_mocks.Mocks):
    """Answers like the AWS provider would, for the resource types the program uses."""

    def __init__(
        self,
        account_id: str,
        region: str,
        stack_outputs: Mapping[str, Mapping[str, Any]],
        organization: MockOrganization,
    ):
        self.account_id = account_id
        self.region = region
        self.stack_outputs = stack_outputs
        self.organization = organization

    def call(self, args: pulumi_mocks.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:{partition_of(self.region)}:iam::{self.account_id}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
                "id": self.account_id,
            }
        if args.token == "aws:organizations/getOrganization:getOrganization":
            return self._organization()
        if args.token == "aws:cloudcontrol/getResource:getResource":
            bucket = args.args["identifier"]
            document = {"BucketName": bucket}
            lifecycle = self.organization.bucket_lifecycles.get(bucket)
            if lifecycle is not None:
                document["LifecycleConfiguration"] = lifecycle
            return {**args.args, "id": bucket, "properties": json.dumps(document)}
        raise NotImplementedError(f"the offline plan cannot answer invoke {args.token}")

    def _organization(self) -> dict[str, Any]:
        """The data source's outputs (pulumi-aws schema of aws:organizations/getOrganization),
        as the management account reads them."""
        org = self.organization
        org_id = org.organization_id or "o-offlineplan"
        partition = partition_of(self.region)
        root = f"r-{_short_id('root', self.account_id)[:4]}"
        return {
            "id": org_id,
            "arn": f"arn:{partition}:organizations::{self.account_id}:organization/{org_id}",
            "featureSet": org.feature_set,
            "masterAccountId": self.account_id,
            "awsServiceAccessPrincipals": list(org.trusted_services),
            "enabledPolicyTypes": [t for t, s in org.policy_types.items() if s == ENABLED],
            "roots": [
                {
                    "id": root,
                    "name": "Root",
                    "arn": f"arn:{partition}:organizations::{self.account_id}:root/{org_id}/{root}",
                    "policyTypes": [
                        {"type": t, "status": s} for t, s in sorted(org.policy_types.items())
                    ],
                }
            ],
        }

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if args.typ == STACK_REFERENCE:
            name = args.resource_id or args.name
            if name not in self.stack_outputs:
                # As the engine answers a reference to a stack its backend does not have.
                raise KeyError(f"unknown stack {name!r}")
            return name, {"name": name, "outputs": dict(self.stack_outputs[name])}
        if not args.custom:
            return "", {}
        state = dict(args.inputs)
        resource_id = self._computed(args.typ, args.name, state)
        return resource_id, state

    def _computed(self, typ: str, name: str, state: dict[str, Any]) -> str:
        """Fill in the outputs a provider computes; return the physical ID."""
        region = state.get("region") or self.region
        state.setdefault("region", region)
        arn_prefix = f"arn:{partition_of(region)}"
        account = self.account_id
        if typ == "aws:s3/bucket:Bucket":
            bucket = state.get("bucket") or f"{name}-{_short_id(name)[:7]}"
            state.update(bucket=bucket, arn=f"{arn_prefix}:s3:::{bucket}")
            return bucket
        if typ == "aws:kms/key:Key":
            key_id = _short_id("key", name)
            key_id = f"{key_id[:8]}-{key_id[8:12]}-{key_id[12:16]}-0000-{_short_id(key_id)[:12]}"
            state.update(keyId=key_id, arn=f"{arn_prefix}:kms:{region}:{account}:key/{key_id}")
            return key_id
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            log_group = state.get("name") or name
            state["arn"] = f"{arn_prefix}:logs:{region}:{account}:log-group:{log_group}"
            return log_group
        if typ == "aws:iam/role:Role":
            role = state.get("name") or f"{name}-{_short_id(name)[:7]}"
            state.update(name=role, arn=f"{arn_prefix}:iam::{account}:role/{role}")
            return role
        if typ == "aws:sns/topic:Topic":
            topic = state.get("name") or name
            state["arn"] = f"{arn_prefix}:sns:{region}:{account}:{topic}"
            return state["arn"]
        if typ == "aws:cloudtrail/trail:Trail":
            trail = state.get("name") or name
            state.update(
                arn=f"{arn_prefix}:cloudtrail:{region}:{account}:trail/{trail}", homeRegion=region
            )
            return trail
        if typ == "aws:lambda/function:Function":
            function = state.get("name") or f"{name}-{_short_id(name)[:7]}"
            arn = f"{arn_prefix}:lambda:{region}:{account}:function:{function}"
            state.update(arn=arn, qualifiedArn=f"{arn}:$LATEST", version="$LATEST")
            return function
        if typ == "aws:cloudwatch/eventRule:EventRule":
            rule = state.get("name") or name
            state["arn"] = f"{arn_prefix}:events:{region}:{account}:rule/{rule}"
            return rule
        resource_id = f"{name}-{_short_id(typ, name)[:8]}"
        if typ.startswith("aws:s3/"):
            return state.get("bucket") or resource_id
        return resource_id


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping the options a real engine would see."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.recorded: list[Resource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, request.object, response.urn, custom=request.custom)
        return response

    def ReadResource(self, request):
        response = super().ReadResource(request)
        self._record(request, request.properties, response.urn, custom=True)
        return response

    def _record(self, request, properties, urn: str, custom: bool) -> None:
        registration = self.resources[urn]
        inputs = rpc.deserialize_properties(properties)
        self.recorded.append(
            Resource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=custom,
                id=registration.id or "",
                inputs=_plain(inputs),
                outputs=_plain(registration.state),
                parent=request.parent,
                provider=request.provider,
                protect=bool(getattr(request, "protect", False)),
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                ignore_changes=list(getattr(request, "ignoreChanges", [])),
                dependencies=list(getattr(request, "dependencies", [])),
                property_dependencies={
                    key: list(deps.urns)
                    for key, deps in getattr(request, "propertyDependencies", {}).items()
                },
            )
        )


def _plain(value: Any) -> Any:
    """Deserialized properties as plain dicts and lists. An asset or archive (a function's
    code) becomes what identifies its content, as the engine hashes it: the file's name and
    the SHA-256 of its bytes, so a plan shows, and `plan --diff` finds, a change of code."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _plain(item) for name, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        content = Path(value.path).read_bytes()
        return {"file": Path(value.path).name, "sha256": hashlib.sha256(content).hexdigest()}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def simulate(
    stack: str,
    config: Mapping[str, str],
    *,
    caller_account_id: str,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    project_dir: Path = PROJECT_DIR,
    preview: bool = False,
    organization: MockOrganization | None = None,
    cli_version: str = OFFLINE_CLI_VERSION,
) -> Simulation:
    """Run `__main__.py` for one stack; exceptions from the program propagate."""
    region = config.get("aws:region") or "us-east-1"
    organization = organization or MockOrganization(
        organization_id=config.get("org-trail:organizationId")
    )
    mocks = OfflineMocks(caller_account_id, region, stack_outputs or {}, organization)
    monitor = RecordingMonitor(mocks)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    SETTINGS.engine = OfflineEngine(cli_version)
    pulumi.runtime.set_all_config(dict(config))
    # A fresh root stack per run, created as the language host does (run_in_stack), so
    # exports of an earlier simulation do not leak in and `pulumi.run` entry points run.
    set_root_resource(None)  # type: ignore[arg-type]
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))

    roots = []

    def program() -> None:
        # The root stack lives in the run's own context; keep it to read the exports after.
        roots.append(get_root_resource())
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    # The SDK creates a few dozen long-lived objects per resource; with the cyclic
    # collector running, each collection walks all of them and the run grows
    # superlinearly with the stack (1.26x per resource from 200 to 800 legacy
    # trails). A run is short and bounded, so the collector waits until it ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_in_stack(program))
    finally:
        if collecting:
            gc.enable()
    exports = {
        name: _sync_await(pulumi.Output.from_input(value).future())
        for name, value in (roots[0].outputs if roots else {}).items()
    }
    # Registration order depends on task scheduling; URN order does not.
    resources = sorted(monitor.recorded, key=lambda r: r.urn)
    return Simulation(stack=stack, resources=resources, exports=_plain(exports))
