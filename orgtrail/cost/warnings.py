"""The management stack's cost-heavy choices, named before the money is spent (`orgtrail plan`).

Each warning says what the choice does to the bill, the monthly figure when a volume
profile (`orgtrail cost --json`) is given (its item, as measured and priced there), and the
cheaper alternative where one exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from orgtrail.contract.config import ManagementSettings
from orgtrail.cost.volume import MONTH_DAYS

# Above this a month, Insights on the whole organisation is called out (the profile's figure).
INSIGHTS_NOTABLE_USD = 100.0


@dataclass(frozen=True)
class CostWarning:
    id: str
    choice: str
    why: str
    cheaper: str | None  # None: no cheaper way to the same end
    usd_per_month: float | None  # from the profile; None without one
    measured_by: str  # the profile item the figure comes from

    def text(self) -> str:
        figure = (
            f" (about ${self.usd_per_month:,.2f} a month, from the volume profile's {self.measured_by})"
            if self.usd_per_month is not None
            else " (give --cost-profile for a figure)"
        )
        cheaper = f". Cheaper: {self.cheaper}" if self.cheaper else ""
        return f"{self.choice}: {self.why}{figure}{cheaper}"


def _usd(
    profile: dict | None, *, group: str | None = None, ids: tuple[str, ...] = ()
) -> float | None:
    """The profile's USD a month of a group of items, or of the items named; None when it has
    none of them. A profile of an earlier org-trail has no groups: each item is its own."""
    if profile is None:
        return None
    found = [
        item["usdPerMonth"]
        for item in profile.get("items", [])
        if item.get("group", item["id"]) == group or item["id"] in ids
    ]
    return sum(found) if found else None


def _loop_usd(profile: dict | None) -> float | None:
    """What recording the log buckets' writes costs: the profile's own item, or else each file
    it delivers a month (its PUT requests) as one data event, at its data events' price."""
    if profile is None:
        return None
    items = {item["id"]: item for item in profile.get("items", [])}
    if "log-bucket-writes" in items:
        return items["log-bucket-writes"]["usdPerMonth"]
    price = next((i["price"] for i in items.values() if i.get("group") == "data-events"), None)
    puts = items.get("s3-put-requests")
    if price is None or puts is None:
        return None
    return puts["quantityPerMonth"] / price["per"] * price["usd"]


def cost_warnings(settings: ManagementSettings, profile: dict | None = None) -> list[CostWarning]:
    data = settings.data_events
    warnings = []
    if data.s3 and data.s3_include_trail_bucket:
        warnings.append(
            CostWarning(
                "s3-data-events-trail-bucket",
                "S3 data events include the trail's own log buckets (dataEvents.s3IncludeTrailBucket)",
                "each log file CloudTrail delivers is itself an S3 data event, delivered in a "
                "file that is another data event: a feedback loop that grows the bill with it",
                "leave s3IncludeTrailBucket false: who reads the logs is still recorded, by the "
                "read-only selector on the log buckets",
                _loop_usd(profile),
                "writes to the log buckets (at least one data event per file delivered)",
            )
        )
    if data.s3 or data.lambda_functions or data.network_activity:
        figure = _usd(profile, ids=("cloudwatch-logs-ingestion-data",))
        if figure is None:  # a profile of an earlier org-trail: the data events' share by count
            share = _data_share(profile)
            ingestion = _usd(profile, ids=("cloudwatch-logs-ingestion",))
            figure = ingestion * share if ingestion is not None and share is not None else None
        warnings.append(
            CostWarning(
                "data-events-to-cloudwatch-logs",
                "data events go to CloudWatch Logs too",
                "the trail sends every event it records to its log group, data events included, "
                "and CloudWatch Logs charges each ingested GB",
                "the CIS alarms read management events only: record data events in a second "
                "trail without CloudWatch Logs (not built here yet), or keep data events off",
                figure,
                "CloudWatch Logs ingestion, the data events' share",
            )
        )
    insights = _usd(profile, group="insights")
    if settings.insights and (profile is None or (insights or 0) >= INSIGHTS_NOTABLE_USD):
        warnings.append(
            CostWarning(
                "insights-organisation-wide",
                "Insights on every account of the organisation",
                "API call rate analyses every write management event and API error rate every "
                "management event, and it is what tells someone of unusual activity",
                None,
                insights,
                "Insights",
            )
        )
    return warnings


def _data_share(profile: dict | None) -> float | None:
    """The data events' share of the events a month (of the ingested bytes, by count)."""
    if profile is None or not profile["window"]["days"]:
        return None
    events_a_month = profile["window"]["events"] * MONTH_DAYS / profile["window"]["days"]
    data = next((i["quantityPerMonth"] for i in profile["items"] if i["id"] == "data-events"), 0)
    return min(1.0, data / events_a_month) if events_a_month else None
