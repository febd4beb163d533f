"""`orgtrail plan`: what each stack would create, without credentials or the Pulumi CLI.

Reads each stack file the way the Pulumi CLI does (refusing what it refuses),
runs the real program under the SDK's mock monitor, and refuses every
resource input an AWS API would refuse (orgtrail.offline.aws_rules). The management stack reads the security stack's outputs
through a StackReference; the plan answers it with the outputs of the
security stack's own simulation, so cross-stack mistakes show up here too.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from orgtrail.cli import add_json, command
from orgtrail.contract.config import (
    STACK_KINDS,
    ConfigError,
    ManagementSettings,
    Settings,
    load_settings,
)
from orgtrail.contract.stack_config import StackConfigError, read_stack_config
from orgtrail.cost.warnings import cost_warnings
from orgtrail.offline.aws_rules import RefusedByAws, refusals
from orgtrail.offline.policy_check import PACK_DIR, PackError, RunningPack, Verdict
from orgtrail.offline.simulate import Resource, Simulation, simulate
from orgtrail.output import refuse
from orgtrail.project import ProjectNotFound, find_project


def stack_account(settings: Settings) -> str:
    """The account whose credentials the stack runs with."""
    org = settings.organization
    if isinstance(settings, ManagementSettings):
        return org.management_account_id
    return org.security_account_id


@dataclass
class StackPlan:
    settings: Settings
    simulation: Simulation
    verdicts: list[Verdict] | None = None  # the policy pack's, when it was asked

    @property
    def account_id(self) -> str:
        return stack_account(self.settings)


def plan_stack(
    project_dir: Path, stack: str, cache: dict[str, StackPlan] | None = None
) -> StackPlan:
    """Simulate one stack (and, for the management stack, the security stack it references)."""
    cache = {} if cache is None else cache
    if stack in cache:
        return cache[stack]
    config = read_stack_config(project_dir, stack)
    settings = load_settings(config, stack)
    stack_outputs = {}
    if isinstance(settings, ManagementSettings):
        # A reference "org/project/security" is the stack "security" of this project.
        security_stack = settings.security_stack.rsplit("/", 1)[-1]
        security = plan_stack(project_dir, security_stack, cache)
        stack_outputs[settings.security_stack] = security.simulation.exports
    account = stack_account(settings)
    simulation = simulate(
        stack,
        config,
        caller_account_id=account,
        stack_outputs=stack_outputs,
        project_dir=project_dir,
    )
    refused = refusals(simulation.resources, account)
    if refused:
        raise RefusedByAws(refused)
    cache[stack] = StackPlan(settings, simulation)
    return cache[stack]


def plan_stacks(project_dir: Path, stacks: list[str]) -> dict[str, StackPlan]:
    cache: dict[str, StackPlan] = {}
    return {stack: plan_stack(project_dir, stack, cache) for stack in stacks}


def check_policies(plans: dict[str, StackPlan], pack_dir: Path = PACK_DIR) -> None:
    """Ask the CrossGuard pack about every planned stack, as `pulumi preview --policy-pack` would."""
    with RunningPack(pack_dir) as pack:
        pack.configure({})
        for plan in plans.values():
            plan.verdicts = pack.verdicts(plan.simulation.resources)


# --- presentation ----------------------------------------------------------


def _decoded(value: Any) -> Any:
    """Policy documents arrive as JSON strings; show them as the structures they are."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _statement_line(statement: dict) -> str:
    actions = statement.get("Action") or statement.get("NotAction")
    line = f"{statement.get('Sid', '-')}: {statement.get('Effect')} {json.dumps(actions)}"
    if "Principal" in statement:
        line += f" by {json.dumps(statement['Principal'])}"
    if "Resource" in statement:
        line += f" on {json.dumps(statement['Resource'])}"
    if "Condition" in statement:
        line += f" if {json.dumps(statement['Condition'])}"
    return line


def property_lines(inputs: dict[str, Any]) -> list[str]:
    lines: list[str] = []

    def walk(path: str, value: Any) -> None:
        value = _decoded(value)
        if isinstance(value, dict) and "Statement" in value:
            for statement in value["Statement"]:
                lines.append(f"{path}: {_statement_line(statement)}")
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(f"{path}.{key}" if path else key, value[key])
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        else:
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # the engine sends every number as a float
            lines.append(f"{path} = {json.dumps(value)}")

    walk("", {key: value for key, value in inputs.items() if not key.startswith("__")})
    return lines


def _label(resource: Resource) -> str:
    flags = [
        flag
        for flag, on in (
            ("protected", resource.protect),
            ("retained on delete", resource.retain_on_delete),
        )
        if on
    ]
    if resource.provider:
        flags.append(f"provider {resource.provider.split('::')[3]}")
    suffix = f" [yellow]({', '.join(flags)})[/]" if flags else ""
    return f"[bold]{resource.name}[/] [dim]{resource.type}[/]{suffix}"


UNWRAPPED = 100_000  # columns of the console a plan is printed on when not a terminal


def render_tree(stack: str, plan: StackPlan) -> Tree:
    org = plan.settings.organization
    sim = plan.simulation
    tree = Tree(
        f"[bold cyan]stack {stack}[/]: account {plan.account_id}, {org.region}, "
        f"{sum(r.custom for r in sim.resources)} resources"
    )
    recorded = {r.urn for r in sim.resources}
    children: dict[str, list[Resource]] = {}
    for resource in sim.resources:
        # Resources whose parent is the root stack hang off the tree's root ("").
        parent = resource.parent if resource.parent in recorded else ""
        children.setdefault(parent, []).append(resource)

    def add(node: Tree, parent_urn: str) -> None:
        for resource in sorted(children.get(parent_urn, []), key=lambda r: (r.custom, r.name)):
            child = node.add(_label(resource))
            if resource.custom and resource.type != "pulumi:pulumi:StackReference":
                for line in property_lines(resource.inputs):
                    child.add(f"[dim]{line}[/]", highlight=False)
            add(child, resource.urn)

    add(tree, "")
    outputs = tree.add("[bold]outputs[/]")
    for name, value in sim.exports.items():
        outputs.add(f"{name} = {value}")
    if plan.verdicts is not None:
        policies = tree.add(f"[bold]policy pack[/]: {len(plan.verdicts)} violations")
        for verdict in plan.verdicts:
            colour = "red" if verdict.level == "mandatory" else "yellow"
            policies.add(
                f"[{colour}]{verdict.level}[/] {verdict.policy}: {verdict.message}", highlight=False
            )
    return tree


SCHEMA_VERSION = 1


def plan_json(plans: dict[str, StackPlan]) -> dict:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stacks": [
            {
                "stack": stack,
                "accountId": plan.account_id,
                "region": plan.settings.organization.region,
                "resources": [
                    {
                        "urn": r.urn,
                        "type": r.type,
                        "name": r.name,
                        "parent": r.parent,
                        "provider": r.provider,
                        "protect": r.protect,
                        "retainOnDelete": r.retain_on_delete,
                        "inputs": {key: _decoded(value) for key, value in r.inputs.items()},
                    }
                    for r in plan.simulation.resources
                ],
                "outputs": plan.simulation.exports,
                "policyVerdicts": None
                if plan.verdicts is None
                else [
                    {"policy": v.policy, "level": v.level, "message": v.message, "urn": v.urn}
                    for v in plan.verdicts
                ],
            }
            for stack, plan in plans.items()
        ],
        "toCreate": {stack: created_by_type(plan) for stack, plan in plans.items()},
    }


# --- command ---------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "plan",
        summary="show what each stack would create, offline",
        description="Run the Pulumi program for each stack offline (no credentials, no "
        "Pulumi CLI), check what it would create against the AWS API rules and the "
        "CrossGuard pack, and print the resources, as `pulumi preview` would.",
        examples=(
            ("both stacks, as a tree", "orgtrail plan"),
            (
                "save a plan in CI, then review what a change does",
                "orgtrail plan --json > plan.json",
            ),
            ("", "orgtrail plan --diff plan.json"),
            (
                "one stack, from another directory",
                "orgtrail plan -C ~/org-trail --stack management",
            ),
        ),
        exit_codes={
            0: "plan made; no mandatory policy violated",
            1: "a mandatory policy of the pack is violated",
        },
    )
    parser.add_argument("--stack", choices=(*STACK_KINDS, "all"), default="all", help="which stack")
    parser.add_argument(
        "-C",
        "--cwd",
        "--project-dir",
        dest="project_dir",
        metavar="DIR",
        type=Path,
        default=Path("."),
        help="look for the org-trail Pulumi.yaml here and in its parents, as `pulumi -C`",
    )
    parser.add_argument(
        "--pack-dir",
        type=Path,
        help="the policy pack to run (default: policies/ of the project)",
    )
    add_json(parser, "plan")
    parser.add_argument(
        "--no-policy", action="store_true", help="do not run the CrossGuard pack on the plan"
    )
    parser.add_argument(
        "--cost-profile",
        type=Path,
        metavar="COST.json",
        help="a volume profile saved with `orgtrail cost --json`: the cost-heavy choices get figures",
    )
    parser.add_argument(
        "--diff",
        type=Path,
        metavar="OLD.json",
        help="show what changed since a plan saved with --json (for review in a pull request)",
    )
    parser.set_defaults(run=run)


def created_by_type(plan: StackPlan) -> dict[str, int]:
    """How many resources of each type the stack would create, sorted by type."""
    # A StackReference reads another stack's outputs: nothing is created for it.
    types = Counter(
        r.type
        for r in plan.simulation.resources
        if r.custom and r.type != "pulumi:pulumi:StackReference"
    )
    return dict(sorted(types.items()))


def resource_counts(plans: dict[str, StackPlan]) -> list[str]:
    """The closing lines, as `pulumi preview` ends: what each stack would create, by type."""
    lines = ["Resources:"]
    for stack, plan in plans.items():
        types = created_by_type(plan)
        by_type = ", ".join(f"{count} {kind}" for kind, count in types.items())
        lines.append(f"    + {sum(types.values())} to create in {stack}: {by_type}")
    return lines


def plan_diff(old: dict, new: dict) -> dict[str, list[str]]:
    """What changed between two `plan --json` outputs, resource by resource (by URN), in
    the order of `pulumi preview --diff`: + created, - deleted, ~ updated (with the inputs
    that differ), and each stack's outputs and policy verdicts that differ."""
    changed: dict[str, list[str]] = {}
    old_stacks = {s["stack"]: s for s in old.get("stacks", [])}
    for stack in new["stacks"]:
        before = old_stacks.get(stack["stack"], {"resources": [], "outputs": {}})
        was = {r["urn"]: r for r in before["resources"]}
        now = {r["urn"]: r for r in stack["resources"]}
        changes = [f"+ {urn}" for urn in now if urn not in was]
        changes += [f"- {urn}" for urn in was if urn not in now]
        for urn in now.keys() & was.keys():
            keys = sorted(
                k
                for k in {*now[urn]["inputs"], *was[urn]["inputs"]}
                if now[urn]["inputs"].get(k) != was[urn]["inputs"].get(k)
            )
            keys += [
                option
                for option in ("protect", "retainOnDelete", "provider", "parent")
                if now[urn].get(option) != was[urn].get(option)
            ]
            if keys:
                changes.append(f"~ {urn} ({', '.join(keys)})")
        outputs = sorted(
            name
            for name in {*stack["outputs"], *before["outputs"]}
            if stack["outputs"].get(name) != before["outputs"].get(name)
        )
        changes += [f"~ output {name}" for name in outputs]
        if "policyVerdicts" in before and stack["policyVerdicts"] != before["policyVerdicts"]:
            changes.append("~ policy pack verdicts")
        changed[stack["stack"]] = sorted(changes, key=lambda c: c[2:])
    return changed


def diff_lines(changed: dict[str, list[str]]) -> list[str]:
    lines = []
    for stack, changes in changed.items():
        noun = "change" if len(changes) == 1 else "changes"
        lines.append(f"stack {stack}: {len(changes)} {noun}")
        lines += [f"    {change}" for change in changes]
    return lines


def run(args: argparse.Namespace, console: Console) -> int:
    stacks = list(STACK_KINDS) if args.stack == "all" else [args.stack]
    try:
        project = find_project(args.project_dir)
        plans = plan_stacks(project, stacks)
        if not args.no_policy:
            check_policies(plans, args.pack_dir or project / "policies")
    except (
        ProjectNotFound,
        ConfigError,
        StackConfigError,
        RefusedByAws,
        pulumi.RunError,
        PackError,
    ) as error:
        return refuse(args, str(error), type(error).__name__)
    document = plan_json(plans)
    try:
        profile = json.loads(args.cost_profile.read_text()) if args.cost_profile else None
    except (OSError, json.JSONDecodeError) as error:
        return refuse(args, f"--cost-profile {args.cost_profile}: {error}")
    warnings = [
        warning
        for plan in plans.values()
        if isinstance(plan.settings, ManagementSettings)
        for warning in cost_warnings(plan.settings, profile)
    ]
    document["costWarnings"] = [
        {
            "id": w.id,
            "choice": w.choice,
            "why": w.why,
            "cheaper": w.cheaper,
            "usdPerMonth": None if w.usd_per_month is None else round(w.usd_per_month, 2),
            "measuredBy": w.measured_by,
        }
        for w in warnings
    ]
    if args.diff is not None:
        try:
            old = json.loads(args.diff.read_text())
        except OSError as error:
            return refuse(args, f"--diff {args.diff}: {error.strerror}")
        except json.JSONDecodeError as error:
            return refuse(args, f"--diff {args.diff} is not JSON: {error}")
        try:
            if not isinstance(old.get("stacks"), list):
                raise KeyError("stacks")
            document["changes"] = plan_diff(old, document)
        except (KeyError, TypeError, AttributeError) as error:
            return refuse(args, f"--diff {args.diff} is not a plan saved with --json ({error!r})")
    if args.json:
        print(json.dumps(document, indent=2))
    elif args.diff is not None:
        for line in diff_lines(document["changes"]):
            print(line)
    else:
        # Saved or piped, a plan is the same whatever COLUMNS says: no line is wrapped, so an
        # ARN stays whole and greppable, and a plan from CI compares with one made locally.
        out = console if console.is_terminal else Console(width=UNWRAPPED, highlight=False)
        for stack, plan in plans.items():
            out.print(render_tree(stack, plan))
        if warnings:
            out.print(Text("Cost-heavy choices:"), soft_wrap=True)
            for warning in warnings:
                out.print(Text(f"    ! {warning.text()}"), soft_wrap=True)
        for line in resource_counts(plans):
            out.print(Text(line), soft_wrap=True)
    mandatory = [
        v for plan in plans.values() for v in plan.verdicts or [] if v.level == "mandatory"
    ]
    return 1 if mandatory else 0
