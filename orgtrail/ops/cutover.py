"""`orgtrail cutover`: stop legacy trails only once the organization trail has provably replaced them.

For each legacy trail of the management stack's config: its account must be an
active member of the organisation, the organization trail must provably record
everything the legacy trail records (regions, global service events, Insights,
every event its selectors match), and the central bucket must hold its log files
for every region the legacy trail covers over the whole overlap window, with no
silence longer than --max-gap-hours. Just before each stop the organization
trail and the account's membership are read and judged again. Only then, and
only with --apply, is the legacy trail stopped (StopLogging). Trails are never
deleted and their buckets never touched. Without --apply: a dry run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.prompt import Confirm
from rich.table import Table
from rich.text import Text

from orgtrail.cli import add_json, add_profile, command
from orgtrail.contract.config import (
    ConfigError,
    LegacyTrail,
    ManagementSettings,
    partition_of,
)
from orgtrail.contract.stack_config import StackConfigError, load_stack_settings
from orgtrail.cost.spend import COST_EXPLORER_REGION, spend, trail_savings
from orgtrail.ops.aws import (
    ACTIVE,
    AWS_ERRORS,
    DEFAULT_CONCURRENCY,
    Account,
    CredentialError,
    RegionReader,
    account_state,
    at_least_one,
    bucket_reader,
    current_account,
    error_code,
    error_text,
    member_role_name,
    one_bucket_prefix,
    paginate,
    role_arn,
)
from orgtrail.ops.deliveries import coverage_gap, deliveries, own_log_buckets
from orgtrail.ops.recording import Recording, missing, recording
from orgtrail.output import SCHEMA_VERSION, add_row, data_table, refuse

STOPPED, ALREADY_STOPPED, READY, WITHHELD = "stopped", "already-stopped", "ready", "withheld"
ACTIONS = (STOPPED, READY, ALREADY_STOPPED, WITHHELD)  # the order the closing line counts in
# A decision's reason until the run decides it: what a report printed after a crash says.
UNDECIDED = "not decided: the run ended before this trail was judged to the end"
# The runbook's overlap: a day of both trails running before the old one may stop.
# Declined at the --apply prompt.
NOT_CONFIRMED = "not confirmed: nothing was stopped"
MINIMUM_OVERLAP_HOURS = 24.0
MAXIMUM_HOURS = 24.0 * 90  # longer than S3 listing of a window can sensibly cover


class CutoverError(ValueError):
    """An input or precondition that stops the run before anything is changed (exit 2)."""


@dataclass
class TrailDecision:
    """One legacy trail's outcome; field names are the report's JSON keys."""

    accountId: str
    region: str
    trailName: str
    # The legacy trail's ARN: the decision's stable ID, whatever its outcome.
    id: str = ""
    action: str = WITHHELD
    reason: str = UNDECIDED
    reasons: list[str] = field(default_factory=list)  # every reason it is withheld
    regions: list[str] = field(default_factory=list)
    deliveries: int = 0
    firstDelivery: str | None = None
    lastDelivery: str | None = None
    # With --spend: what stopping it saves a month, from Cost Explorer (None: not read).
    savingUsdPerMonth: float | None = None

    def __post_init__(self) -> None:
        partition = partition_of(self.region)
        self.id = self.id or (
            f"arn:{partition}:cloudtrail:{self.region}:{self.accountId}:trail/{self.trailName}"
        )

    def withhold(self, *reasons: str) -> None:
        self.action = WITHHELD
        self.reasons += reasons
        self.reason = "; ".join(self.reasons)

    def settle(self, action: str, reason: str = "") -> None:
        self.action, self.reason = action, reason


def load_management_settings(path: Path) -> ManagementSettings:
    """The management stack's settings from its Pulumi.<stack>.yaml."""
    settings = load_stack_settings(path)
    if not isinstance(settings, ManagementSettings):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        raise StackConfigError(f"{path} configures the {stack} stack, not the management stack")
    return settings


def describe(account: Account, region: str, name: str) -> Recording | None:
    """What the trail `name` (name or ARN) in `region` records, or None when there is none."""
    cloudtrail = account.client("cloudtrail", region)
    listed = cloudtrail.describe_trails(trailNameList=[name], includeShadowTrails=False)[
        "trailList"
    ]
    # Some endpoints (and moto) ignore trailNameList: pick the trail by name or ARN.
    found = [t for t in listed if name in (t.get("Name"), t.get("TrailARN"))]
    if not found:
        return None
    trail = found[0]
    selectors = cloudtrail.get_event_selectors(TrailName=trail["TrailARN"])
    try:
        insights = cloudtrail.get_insight_selectors(TrailName=trail["TrailARN"])
    except AWS_ERRORS as error:
        # A trail without Insights answers InsightNotEnabledException (CloudTrail API reference).
        if error_code(error) != "InsightNotEnabledException":
            raise
        insights = {}
    return recording(trail, selectors, insights)


def organization_trail(
    management: Account, settings: ManagementSettings, log_bucket: str
) -> Recording:
    """The organization trail as AWS describes it; CutoverError when it is not the one to rely on."""
    org = settings.organization
    try:
        found = describe(management, org.region, org.trail_arn)
    except AWS_ERRORS as error:
        raise CutoverError(
            f"organization trail {org.trail_arn} cannot be read: {error_text(error)}"
        ) from None
    if found is None:
        raise CutoverError(f"there is no organization trail {org.trail_arn}")
    if not found.organization:
        raise CutoverError(f"{org.trail_arn} is not an organization trail")
    if found.bucket != log_bucket:
        raise CutoverError(
            f"--log-bucket {log_bucket} is not where the organization trail delivers "
            f"({found.bucket}): cutover must read the organization trail's own bucket"
        )
    return found


def delivering_problem(management: Account, trail: Recording, region: str) -> str | None:
    """Why the organization trail cannot be relied on right now, or None."""
    try:
        status = management.client("cloudtrail", region).get_trail_status(Name=trail.arn)
    except AWS_ERRORS as error:
        return f"organization trail status cannot be read: {error_text(error)}"
    if not status.get("IsLogging"):
        return f"organization trail {trail.arn} is not logging"
    if status.get("LatestDeliveryError"):
        return f"organization trail reports a delivery error: {status['LatestDeliveryError']}"
    return None


def membership_problem(management: Account, organization_id: str, account_id: str) -> str | None:
    """Why the account is not, or not provably, an active member of the organisation, or None.

    An organization trail records the organisation's member accounts only: an account that
    left is no longer recorded, whatever its old log files show."""
    try:
        account = management.client("organizations").describe_account(AccountId=account_id)
    except AWS_ERRORS as error:
        if error_code(error) == "AccountNotFoundException":
            return _member_problem(None, organization_id, account_id)
        return f"membership of account {account_id} cannot be read: {error_text(error)}"
    return _member_problem(account_state(account["Account"]), organization_id, account_id)


def _member_problem(state: str | None, organization_id: str, account_id: str) -> str | None:
    """Why an account in `state` (None: not in the organisation) is not an active member."""
    if state is None:
        return (
            f"account {account_id} is not a member of {organization_id}: the organization "
            "trail records member accounts only"
        )
    if state != ACTIVE:
        return f"account {account_id} is {state}, not an ACTIVE member of {organization_id}"
    return None


@dataclass(frozen=True)
class Snapshot:
    """The organisation as read once for judging every trail: each account's state (or why
    the accounts could not be listed) and why the organization trail is not delivering."""

    states: dict[str, str] | str
    delivering: str | None

    def membership(self, organization_id: str, account_id: str) -> str | None:
        if isinstance(self.states, str):
            return f"membership of account {account_id} cannot be read: {self.states}"
        return _member_problem(self.states.get(account_id), organization_id, account_id)


def covered_regions(
    regions: RegionReader, account_id: str, member: Account, legacy: Recording, home: str
) -> list[str]:
    """Every region the legacy trail records: the account's regions, or its home region."""
    return regions.regions(account_id, member, home) if legacy.multi_region else [home]


@dataclass
class Judged:
    """A legacy trail found fit to stop, and what stopping it needs."""

    legacy: LegacyTrail
    trail: Recording
    cloudtrail: Any  # the member account's CloudTrail client in the trail's region


@dataclass
class Cutover:
    """One run: its inputs, and the decisions recorded as they are made.

    Trails are judged concurrently (all reads); they are stopped one at a time, in the
    order of the stack config, each immediately after the organization trail and the
    account's membership are read and judged again.
    """

    management: Account
    reader: Account
    settings: ManagementSettings
    trail: Recording  # the organization trail, as read at the start
    log_bucket: str
    window: tuple[datetime, datetime]
    max_gap: timedelta
    apply: bool
    accepted_exclusions: tuple[str, ...] = ()
    concurrency: int = DEFAULT_CONCURRENCY
    # Assumed in member accounts instead of each trail's roleName (e.g. org-trail-member).
    member_role: str | None = None
    decisions: list[TrailDecision] = field(default_factory=list)
    # Asked once, after judging, with the trails about to stop; False stops none.
    confirm: Callable[[list[TrailDecision]], bool] | None = None
    declined: bool = False

    def __post_init__(self) -> None:
        self.regions = RegionReader(self.management)

    def run(self, legacy_trails: Sequence[LegacyTrail]) -> None:
        # Recorded before anything is done, in the order of the stack config.
        decisions = [TrailDecision(t.account_id, t.region, t.trail_name) for t in legacy_trails]
        self.decisions += decisions
        self.management.client("sts")  # sessions are not thread-safe, clients are
        snapshot = self.snapshot()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            judged = list(pool.map(self.judge, legacy_trails, decisions, repeat(snapshot)))
        ready = [d for fit, d in zip(judged, decisions, strict=True) if fit is not None]
        if ready and self.confirm is not None and not self.confirm(ready):
            self.declined = True
            for decision in ready:
                decision.settle(READY, NOT_CONFIRMED)
            return
        for fit, decision in zip(judged, decisions, strict=True):
            if fit is not None:
                self.stop(fit, decision)

    def snapshot(self) -> Snapshot:
        """The organisation's accounts and the organization trail's status, read once."""
        org = self.settings.organization
        try:
            accounts = paginate(
                self.management.client("organizations"), "list_accounts", "Accounts"
            )
        except AWS_ERRORS as error:
            states: dict[str, str] | str = error_text(error)
        else:
            states = {account["Id"]: account_state(account) for account in accounts}
        return Snapshot(states, delivering_problem(self.management, self.trail, org.region))

    def judge(
        self, legacy: LegacyTrail, decision: TrailDecision, snapshot: Snapshot
    ) -> Judged | None:
        """Everything that must hold before the trail may stop; the trail when it all does."""
        try:
            return self._judge(legacy, decision, snapshot)
        except AWS_ERRORS as error:
            decision.withhold(f"cannot be judged: {error_text(error)}")
            return None

    def _judge(
        self, legacy: LegacyTrail, decision: TrailDecision, snapshot: Snapshot
    ) -> Judged | None:
        try:
            role = self.member_role or legacy.role_name
            member = self.management.assume(legacy.account_id, role)
            found = describe(member, legacy.region, legacy.trail_name)
        except AWS_ERRORS as error:
            decision.withhold(f"legacy trail unreadable: {error_text(error)}")
            return None
        if found is None:
            decision.withhold("legacy trail not found")
            return None
        cloudtrail = member.client("cloudtrail", legacy.region)
        if not cloudtrail.get_trail_status(Name=found.arn).get("IsLogging"):
            if snapshot.delivering:
                # Stopped, and the organization trail is not delivering either: nothing may be
                # recording this account. Never an all-clear.
                decision.withhold(
                    f"already stopped, and {snapshot.delivering}: nothing may be recording "
                    "this account; start this trail again (docs/rollback.md) or fix the "
                    "organization trail"
                )
                return None
            decision.settle(ALREADY_STOPPED)
            return None
        org = self.settings.organization
        reasons = self._unsafe(
            found,
            self.trail,
            snapshot.membership(org.organization_id, legacy.account_id),
            snapshot.delivering,
        )
        try:
            decision.regions = covered_regions(
                self.regions, legacy.account_id, member, found, legacy.region
            )
        except AWS_ERRORS as error:
            reasons.append(f"the account's regions cannot be read: {error_text(error)}")
        reasons += self._delivery_gaps(legacy.account_id, decision)
        if reasons:
            decision.withhold(*reasons)
            return None
        if not self.apply:
            decision.settle(READY, "dry run: would stop (run with --apply)")
            return None
        return Judged(legacy, found, cloudtrail)

    def _unsafe(
        self,
        found: Recording,
        organization: Recording,
        membership: str | None,
        delivering: str | None,
    ) -> list[str]:
        """What makes stopping the legacy trail unsafe: the account's membership, what the
        organization trail does not record, why it is not delivering."""
        gaps = missing(found, organization, self.accepted_exclusions)
        recorded = f"the organization trail does not record: {'; '.join(gaps)}" if gaps else None
        return [reason for reason in (membership, recorded, delivering) if reason]

    def _delivery_gaps(self, account_id: str, decision: TrailDecision) -> list[str]:
        """Every region whose deliveries leave a gap in the window (counts of all regions)."""
        start, end = self.window
        every: list[datetime] = []
        found = []
        for region in decision.regions:
            try:
                times = deliveries(
                    self.reader.client("s3"),
                    self.trail.bucket,
                    self.settings.organization.organization_id,
                    account_id,
                    region,
                    start,
                    end,
                    self.trail.prefix,
                )
            except AWS_ERRORS as error:
                found.append(f"{region}: deliveries cannot be read: {error_text(error)}")
                continue
            every += times
            gap = coverage_gap(times, start, end, self.max_gap)
            if gap:
                found.append(f"{region}: {gap}")
        every.sort()
        decision.deliveries = len(every)
        if every:
            decision.firstDelivery = every[0].isoformat()
            decision.lastDelivery = every[-1].isoformat()
        return found

    def stop(self, fit: Judged, decision: TrailDecision) -> None:
        """Stop the trail if, read again right now, the organization still covers it."""
        org = self.settings.organization
        try:
            fresh = organization_trail(self.management, self.settings, self.log_bucket)
            reasons = self._unsafe(
                fit.trail,
                fresh,
                membership_problem(self.management, org.organization_id, fit.legacy.account_id),
                delivering_problem(self.management, fresh, org.region),
            )
        except CutoverError as error:
            reasons = [str(error)]
        except AWS_ERRORS as error:
            reasons = [f"cannot be judged again before the stop: {error_text(error)}"]
        if reasons:
            decision.withhold(*(f"just before the stop: {reason}" for reason in reasons))
            return
        cloudtrail, arn = fit.cloudtrail, fit.trail.arn
        try:
            cloudtrail.stop_logging(Name=arn)
        except AWS_ERRORS as error:
            # The answer may be lost while the stop happened: ask the trail itself.
            unread = ""
            try:
                logging = cloudtrail.get_trail_status(Name=arn).get("IsLogging")
            except AWS_ERRORS as status_error:
                logging, unread = None, f"; its status cannot be read: {error_text(status_error)}"
            if logging is False:
                decision.settle(
                    STOPPED, f"StopLogging answered {error_text(error)}, but the trail is stopped"
                )
            else:
                decision.withhold(f"StopLogging failed: {error_text(error)}{unread}")
            return
        decision.settle(STOPPED)


def start(
    management: Account,
    settings: ManagementSettings,
    log_bucket: str,
    overlap: timedelta = timedelta(hours=24),
    max_gap: timedelta = timedelta(hours=2),
    apply: bool = False,
    reader: Account | None = None,
    now: datetime | None = None,
    accepted_exclusions: tuple[str, ...] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    member_role: str | None = None,
) -> Cutover:
    """A run ready to judge trails; CutoverError, before any change, when it cannot be trusted."""
    check_window(overlap, max_gap)
    end = (now or datetime.now(UTC)).astimezone(UTC)
    reader = reader or management
    return Cutover(
        management,
        reader,
        settings,
        organization_trail(management, settings, log_bucket),
        log_bucket,
        (end - overlap, end),
        max_gap,
        apply,
        # The trail's own log buckets are left out of its data events by design.
        (*own_log_buckets(reader, log_bucket), *accepted_exclusions),
        max(1, concurrency),
        member_role,
    )


def cutover(
    management: Account, settings: ManagementSettings, log_bucket: str, **options: Any
) -> dict[str, Any]:
    """Judge (and with `apply`, stop) every legacy trail of the settings; the report.

    `options` are those of `start`."""
    job = start(management, settings, log_bucket, **options)
    job.run(job.settings.legacy_trails)
    return report_of(job)


def report_of(run: Cutover) -> dict[str, Any]:
    start, end = run.window
    return {
        "schemaVersion": SCHEMA_VERSION,
        "organizationId": run.settings.organization.organization_id,
        "organizationTrailArn": run.trail.arn,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        # Declined at the prompt: nothing was applied.
        "applied": run.apply and not run.declined,
        "trails": [asdict(d) for d in run.decisions],
        "summary": action_counts(d.action for d in run.decisions),
    }


def check_window(overlap: timedelta, max_gap: timedelta) -> None:
    hours = overlap.total_seconds() / 3600
    if hours < MINIMUM_OVERLAP_HOURS:
        raise CutoverError(
            f"--overlap-hours {hours:g} is shorter than the runbook's minimum of "
            f"{MINIMUM_OVERLAP_HOURS:g}: both trails must run side by side for at least a day"
        )
    if max_gap >= overlap:
        raise CutoverError("--max-gap-hours must be shorter than --overlap-hours")


# --- command -------------------------------------------------------------------------------


def hours(text: str) -> float:
    """A positive, finite number of hours, at most MAXIMUM_HOURS (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not math.isfinite(value) or value <= 0 or value > MAXIMUM_HOURS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed: a number of hours above 0 and at most {MAXIMUM_HOURS:g}"
        )
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = command(
        subparsers,
        "cutover",
        summary="stop legacy trails once the organization trail has covered them (dry run unless --apply)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        examples=(
            (
                "dry run: which legacy trails could stop, and why not",
                "orgtrail cutover --stack-config Pulumi.management.yaml --log-bucket acme-org-trail-logs",
            ),
            (
                "stop them, asking first; the bucket read through the security account",
                "orgtrail cutover --stack-config Pulumi.management.yaml --log-bucket acme-org-trail-logs "
                "--log-bucket-role-arn arn:aws:iam::222222222222:role/org-trail-log-reader --apply",
            ),
            (
                "in a pipeline: no question, JSON out",
                "orgtrail cutover --stack-config Pulumi.management.yaml --log-bucket acme-org-trail-logs "
                "--apply --yes --json > cutover.json",
            ),
        ),
        exit_codes={
            0: "no trail withheld (each stopped, ready in a dry run, or already stopped)",
            1: "a trail was withheld: every reason is in the report",
        },
    )
    parser.add_argument(
        "--stack-config", type=Path, required=True, help="Pulumi.<management stack>.yaml"
    )
    parser.add_argument("--log-bucket", required=True, help="the organization trail's bucket")
    parser.add_argument(
        "--overlap-hours",
        type=hours,
        default=MINIMUM_OVERLAP_HOURS,
        help=f"window the org trail must cover (at least {MINIMUM_OVERLAP_HOURS:g})",
    )
    parser.add_argument(
        "--max-gap-hours", type=hours, default=2.0, help="longest silence allowed in the window"
    )
    parser.add_argument(
        "--role-name",
        type=member_role_name,
        help="role assumed in each member account (default: each legacy trail's roleName); "
        "org-trail-member when the management stack creates the member roles",
    )
    parser.add_argument(
        "--accept-excluded",
        action="append",
        type=one_bucket_prefix,
        default=[],
        metavar="ARN_PREFIX",
        help="one bucket's objects the organization trail leaves out of data events on purpose, "
        "as arn:aws:s3:::<bucket>/ (e.g. arn:aws:s3:::acme-org-trail-logs/; a waiver broader "
        "than one bucket is refused); repeatable",
    )
    parser.add_argument(
        "--log-bucket-role-arn", type=role_arn, help="role to assume for listing the central bucket"
    )
    parser.add_argument(
        "--concurrency",
        type=at_least_one,
        default=DEFAULT_CONCURRENCY,
        help="legacy trails judged at once; stops stay one at a time",
    )
    parser.add_argument("--apply", action="store_true", help="really call StopLogging")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --apply: stop without asking (needed when not run from a terminal)",
    )
    parser.add_argument(
        "--spend",
        action="store_true",
        help="show what stopping each trail saves a month, measured from Cost Explorer "
        "(ce:GetCostAndUsage, the last 3 full months)",
    )
    add_json(parser, "cutover")
    add_profile(parser)
    parser.set_defaults(run=run)


def report_table(report: dict) -> Table:
    declined = any(t["reason"] == NOT_CONFIRMED for t in report["trails"])
    mode = "applied" if report["applied"] else "not confirmed" if declined else "dry run"
    # With --spend, what stopping each trail saves; the columns stay as they were without.
    measured = any(t.get("savingUsdPerMonth") is not None for t in report["trails"])
    columns = ("account", "region", "trail", "action", "deliveries", "reason")
    table = data_table(
        f"cutover ({mode}), window {report['window']['start']} .. {report['window']['end']}",
        (*columns, "saves a month") if measured else columns,
    )
    colours = {STOPPED: "green", ALREADY_STOPPED: "dim", READY: "cyan", WITHHELD: "red"}
    for trail in report["trails"]:
        cells = [
            trail["accountId"],
            trail["region"],
            trail["trailName"],
            Text.assemble((trail["action"], colours[trail["action"]])),
            str(trail["deliveries"]),
            "\n".join(trail["reasons"]) or trail["reason"],
        ]
        if measured:
            saving = trail.get("savingUsdPerMonth")
            cells.append("-" if saving is None else f"${saving:,.2f}")
        add_row(table, *cells)
    return table


def action_counts(actions: Iterable[str]) -> dict[str, int]:
    """How many trails ended each way, every action named (the JSON's `summary`)."""
    counts = Counter(actions)
    return {action: counts[action] for action in ACTIONS}


def summary_line(report: dict) -> str:
    """One line at the end, as `pulumi up` ends: how many trails ended each way."""
    counts = action_counts(trail["action"] for trail in report["trails"])
    parts = [f"{counts[action]} {action}" for action in ACTIONS if counts[action]]
    saved = [
        t["savingUsdPerMonth"]
        for t in report["trails"]
        if t.get("savingUsdPerMonth") is not None and t["action"] in (STOPPED, READY)
    ]
    if parts and saved:
        return (
            ", ".join(parts) + f"; stopping them saves ${sum(saved):,.2f} a month (Cost Explorer)"
        )
    return ", ".join(parts) or "no legacy trails in the stack config"


def _print(report: dict, args: argparse.Namespace, console: Console) -> None:
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        console.print(report_table(report))
        console.print(Text(summary_line(report)), soft_wrap=True)


def measured_savings(management: Account, settings: ManagementSettings) -> dict[tuple, float]:
    """Each legacy trail's monthly saving from Cost Explorer; none, said on stderr, when it
    cannot be read (the cutover itself goes on: the saving informs, it decides nothing)."""
    try:
        region = COST_EXPLORER_REGION.get(management.partition, "us-east-1")
        spent = spend(management.client("ce", region), datetime.now(UTC).date())
    except AWS_ERRORS as error:
        Console(stderr=True).print(
            Text(f"warning: the savings were not read from Cost Explorer: {error_text(error)}"),
            soft_wrap=True,
        )
        return {}
    return {key: round(usd, 4) for key, usd in trail_savings(settings, spent).items()}


def ask_before_stopping(ready: list[TrailDecision]) -> bool:
    """As `pulumi up` asks: the trails about to stop, then yes or no on the terminal."""
    errors = Console(stderr=True)
    for decision in ready:
        errors.print(
            Text(f"  stop {decision.trailName} ({decision.accountId}, {decision.region})"),
            soft_wrap=True,
        )
    count = f"{len(ready)} legacy trail{'s' if len(ready) != 1 else ''}"
    return Confirm.ask(f"Stop {count}?", console=errors, default=False)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.apply and not args.yes and not sys.stdin.isatty():
        return refuse(
            args, "--apply stops trails: add --yes to confirm when not run from a terminal"
        )
    try:
        settings = load_management_settings(args.stack_config)
        check_window(timedelta(hours=args.overlap_hours), timedelta(hours=args.max_gap_hours))
        management = current_account(args.profile, settings.organization.region)
        reader = bucket_reader(management, args.log_bucket_role_arn)
    except (ConfigError, StackConfigError, CutoverError, CredentialError, OSError) as error:
        return refuse(args, str(error), type(error).__name__)
    if management.account_id != settings.organization.management_account_id:
        return refuse(
            args,
            "run cutover with credentials of the management account "
            f"{settings.organization.management_account_id}, not {management.account_id}",
            "CredentialError",
        )
    try:
        job = start(
            management,
            settings,
            args.log_bucket,
            timedelta(hours=args.overlap_hours),
            timedelta(hours=args.max_gap_hours),
            args.apply,
            reader,
            accepted_exclusions=tuple(args.accept_excluded),
            concurrency=args.concurrency,
            member_role=args.role_name,
        )
    except CutoverError as error:
        return refuse(args, str(error), type(error).__name__)
    if args.apply and not args.yes:
        job.confirm = ask_before_stopping
    savings = measured_savings(management, settings) if args.spend else {}
    try:
        job.run(settings.legacy_trails)
    finally:
        # Whatever fails later, the operator sees what was already decided and done.
        for decision in job.decisions:
            key = (decision.accountId, decision.region, decision.trailName)
            decision.savingUsdPerMonth = savings.get(key)
        report = report_of(job)
        _print(report, args, console)
    return 1 if any(t["action"] == WITHHELD for t in report["trails"]) else 0
