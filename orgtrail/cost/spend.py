"""Today's CloudTrail spend, measured: Cost Explorer in the management account.

`GetCostAndUsage` over the last full months, service AWS CloudTrail, grouped by linked
account and usage type (Cost Explorer API reference). The usage types named on CloudTrail's
bill: `PaidEventsRecorded` (management events beyond the first copy: what the legacy trails
cost), `DataEventsRecorded`, `InsightsEvents` (CloudTrail User Guide, "Costs for Insights
events"), each with its billing region's prefix (`EUW1-`; none for us-east-1). Anything else
is kept under its own name, never folded into a known kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from orgtrail.contract.config import ManagementSettings

SERVICE = "AWS CloudTrail"
# Cost Explorer's one endpoint per partition (Cost Explorer API reference, "Service Endpoint").
COST_EXPLORER_REGION = {
    "aws": "us-east-1",
    "aws-cn": "cn-northwest-1",
    "aws-us-gov": "us-gov-west-1",
}
KINDS = {
    "PaidEventsRecorded": "extra copies of management events",
    "DataEventsRecorded": "data events",
    "InsightsEvents": "Insights",
}
# The billing region prefixes of usage types (AWS Cost and Usage Report, "usage type" codes);
# us-east-1's usage types carry none. A prefix not here is said, not guessed.
BILLING_REGIONS = {
    "": "us-east-1", "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1",
    "USW2": "us-west-2", "CAN1": "ca-central-1", "EUW1": "eu-west-1", "EUW2": "eu-west-2",
    "EUW3": "eu-west-3", "EUC1": "eu-central-1", "EUN1": "eu-north-1", "EUS1": "eu-south-1",
    "APN1": "ap-northeast-1", "APN2": "ap-northeast-2", "APN3": "ap-northeast-3",
    "APS1": "ap-southeast-1", "APS2": "ap-southeast-2", "APS3": "ap-south-1",
    "SAE1": "sa-east-1",
}  # fmt: skip


@dataclass
class AccountSpend:
    account: str
    months: int
    by_kind: dict[str, float] = field(default_factory=dict)  # USD a month, on average
    paid_copies_by_region: dict[str, float] = field(default_factory=dict)

    @property
    def usd(self) -> float:
        return sum(self.by_kind.values())


def last_full_months(today: date, months: int) -> tuple[str, str]:
    """[first day of the month `months` before this one, first day of this month)."""
    end = today.replace(day=1)
    year, month = end.year, end.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1).isoformat(), end.isoformat()


def _split(usage_type: str) -> tuple[str | None, str]:
    """(region or None when the prefix is unknown, the usage type's kind)."""
    prefix, _, kind = usage_type.rpartition("-")
    return BILLING_REGIONS.get(prefix), kind


def spend(cost_explorer, today: date, months: int = 3) -> dict[str, AccountSpend]:
    start, end = last_full_months(today, months)
    request = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [SERVICE]}},
        "GroupBy": [
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
        ],
    }
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    copies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    while True:
        answer = cost_explorer.get_cost_and_usage(**request)
        for period in answer.get("ResultsByTime", []):
            for group in period.get("Groups", []):
                account, usage_type = group["Keys"]
                amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
                region, kind = _split(usage_type)
                name = KINDS.get(kind, f"other: {usage_type}")
                totals[account][name] += amount / months
                if kind == "PaidEventsRecorded":
                    where = region or f"billing region of {usage_type}"
                    copies[account][where] += amount / months
        token = answer.get("NextPageToken")
        if not token:
            break
        request["NextPageToken"] = token
    return {
        account: AccountSpend(account, months, dict(kinds), dict(copies.get(account, {})))
        for account, kinds in sorted(totals.items())
    }


def trail_savings(
    settings: ManagementSettings, spent: dict[str, AccountSpend]
) -> dict[tuple, float]:
    """What stopping each legacy trail saves a month, measured: its account's paid copies in
    its region, shared among the legacy trails the config has there (the extra copies they
    make). Keyed (account, region, trail name)."""
    sharing: dict[tuple[str, str], list[str]] = defaultdict(list)
    for trail in settings.legacy_trails:
        sharing[(trail.account_id, trail.region)].append(trail.trail_name)
    savings = {}
    for (account, region), names in sharing.items():
        paid = spent.get(account, AccountSpend(account, 0)).paid_copies_by_region.get(region, 0.0)
        for name in names:
            savings[(account, region, name)] = paid / len(names)
    return savings
