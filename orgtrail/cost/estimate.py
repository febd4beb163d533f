"""A month of the configured stacks, priced: each item from a measured count and a cited price.

Items, per account and for the organisation (the monthly quantity is the count over the
window read, scaled to a month):

- management events, extra copies: the organization trail's copy is the first and free; each
  legacy trail of the management stack's config is one more copy of its account's
  management events in its region, charged, until `cutover` stops it;
- data events (S3, Lambda, others) and network activity events: every delivery is charged;
- Insights: write management events analysed twice (call rate and error rate), read ones
  once (error rate), when the stack turns Insights on;
- CloudWatch Logs ingestion: every event the trail records is sent to its log group, data
  events included, at its uncompressed size;
- the log bucket: a month's files kept for the Object Lock retention (S3 Standard), their
  PUT requests and one KMS request per file.

What cannot be measured from the files read is listed in `not_measured`, never priced as zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orgtrail.contract.config import Archive, ManagementSettings, ObjectLock, SecuritySettings
from orgtrail.cost.prices import CLASS_PRICES, OVERHEAD, Price, PriceTable
from orgtrail.cost.volume import MONTH_DAYS, Place, Volume

GIB = 2**30  # AWS bills a "GB" of storage and of ingestion as 2**30 bytes


@dataclass
class Item:
    id: str
    name: str
    price: Price
    quantity: float = 0.0  # per month, organisation-wide, in the price's unit
    per_account: dict[str, float] = field(default_factory=dict)  # quantity per month

    @property
    def usd(self) -> float:
        return self.price.cost(self.quantity)

    def account_usd(self, account: str) -> float:
        return self.price.cost(self.per_account.get(account, 0.0))

    def add(self, account: str, quantity: float) -> None:
        self.quantity += quantity
        self.per_account[account] = self.per_account.get(account, 0.0) + quantity


@dataclass
class Estimate:
    volume: Volume
    prices: PriceTable
    items: list[Item]
    not_measured: list[str]
    assumptions: list[str]

    @property
    def usd(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def cutover_saving(self) -> float:
        """What stopping every legacy trail of the config saves a month (their extra copies)."""
        return sum(item.usd for item in self.items if item.id == "management-extra-copies")

    def accounts(self) -> list[str]:
        return sorted({account for item in self.items for account in item.per_account})


def estimate(
    volume: Volume,
    prices: PriceTable,
    management: ManagementSettings | None = None,
    security: SecuritySettings | None = None,
) -> Estimate:
    month = volume.per_month
    assumptions = [
        f"a month is {MONTH_DAYS:.2f} days; counts over the {volume.days:.2f} days read "
        f"are multiplied by {month:.2f}",
        f"prices: {prices.origin}",
    ]
    not_measured: list[str] = []
    copies = Counter(
        (t.account_id, t.region) for t in (management.legacy_trails if management else ())
    )
    if management is None:
        not_measured.append(
            "extra copies of management events: no management stack file given "
            "(--stack-config Pulumi.<management stack>.yaml names the legacy trails)"
        )
    else:
        assumptions.append(
            "each legacy trail is one extra copy of its account's management events in its "
            "region (a multi-region legacy trail copies every region: `orgtrail inventory` says "
            "which are)"
        )
    insights = management.insights if management else True
    lock = security.object_lock if security else ObjectLock()
    lifecycle = security.lifecycle if security else Archive()
    log_group_days = management.log_retention_days if management else 365
    if security is None:
        assumptions.append(
            f"the security stack's defaults (no security stack file given): retention "
            f"{lock.days} days, archived to {lifecycle.storage_class} after "
            f"{lifecycle.archive_after_days} days"
        )
    # How long a log object is kept: until it expires, or at least its retention.
    kept_days = max(lifecycle.expire_after_days or lock.days, lock.days)
    standard_days = min(lifecycle.archive_after_days, kept_days)
    if lifecycle.expire_after_days is None:
        assumptions.append(
            f"storage priced after {kept_days} days (the retention); nothing expires, so it "
            "keeps growing after that"
        )
    assumptions.append(
        "CloudWatch Logs stores the events compressed: priced at the size of the gzip log "
        f"files, kept the log group's {log_group_days} days"
    )
    archive_price, transition_price = CLASS_PRICES[lifecycle.storage_class]
    items = {
        item.id: item
        for item in (
            Item("management-extra-copies", "management events, extra copies (legacy trails)",
                 prices["management-events-extra-copy"]),
            Item("data-events", "data events (S3, Lambda and others)", prices["data-events"]),
            Item("network-activity-events", "network activity events",
                 prices["network-activity-events"]),
            Item("insights", "Insights, events analysed (both types)",
                 prices["insights-events-analysed"]),
            Item("cloudwatch-logs-ingestion", "CloudWatch Logs ingestion (every event, data included)",
                 prices["cloudwatch-logs-ingestion"]),
            Item("cloudwatch-logs-storage", f"CloudWatch Logs storage, {log_group_days} days kept",
                 prices["cloudwatch-logs-storage"]),
            Item("s3-storage", f"log bucket storage, the first {standard_days} days (S3 Standard)",
                 prices["s3-standard-storage"]),
            Item("s3-archive-storage",
                 f"log bucket storage, days {standard_days} to {kept_days} ({lifecycle.storage_class})",
                 prices[archive_price]),
            Item("s3-transitions", f"lifecycle transitions to {lifecycle.storage_class}",
                 prices[transition_price]),
            Item("s3-put-requests", "log bucket PUT requests (log and digest files)",
                 prices["s3-put-requests"]),
            Item("kms-requests", "KMS requests (one data key per file)", prices["kms-requests"]),
        )
    }  # fmt: skip
    digest_share = volume.digest_files / max(volume.total("files"), 1)
    if volume.digest_files:
        assumptions.append("digest files are shared among accounts as their log files are")
    for place in volume.places:
        _price_place(items, place, month, copies[(place.account, place.region)], insights)
        files = place.files * (1 + digest_share) * month
        items["s3-put-requests"].add(place.account, files)
        items["kms-requests"].add(place.account, files)
        monthly = place.stored_bytes * month / GIB  # GB delivered a month
        items["s3-storage"].add(place.account, monthly * standard_days / MONTH_DAYS)
        archived_months = max(kept_days - standard_days, 0) / MONTH_DAYS
        in_class, in_standard = OVERHEAD.get(lifecycle.storage_class, (0, 0))
        objects = place.files * month * archived_months  # objects in the class, steady state
        items["s3-archive-storage"].add(
            place.account, monthly * archived_months + objects * in_class / GIB
        )
        items["s3-storage"].add(place.account, objects * in_standard / GIB)
        if kept_days > standard_days:
            items["s3-transitions"].add(place.account, place.files * month)
        items["cloudwatch-logs-storage"].add(place.account, monthly * log_group_days / MONTH_DAYS)
    if not insights:
        del items["insights"]
    if not volume.files_measured:
        for unmeasured in (
            "cloudwatch-logs-ingestion",
            "cloudwatch-logs-storage",
            "s3-storage",
            "s3-archive-storage",
            "s3-transitions",
            "s3-put-requests",
            "kms-requests",
        ):
            del items[unmeasured]
        not_measured.append(
            "the log files, their number and sizes (CloudWatch Logs ingestion, the bucket's "
            "storage, PUT and KMS requests): Athena counts events, not files; measure a day "
            "of files with --logs"
        )
    data_events = management.data_events if management else None
    wanted = data_events is None or data_events.s3 or data_events.lambda_functions
    if volume.total("data") == 0 and wanted:
        not_measured.append(
            "data events: the files read hold none; if the stack records them, measure a day "
            "of logs after switching them on (a whole organisation's S3 reads can cost more "
            "than everything else here)"
        )
    unclassified = volume.total("unclassified")
    if unclassified:
        assumptions.append(
            f"{unclassified:,} events without an eventCategory are priced as management events"
        )
    return Estimate(volume, prices, list(items.values()), not_measured, assumptions)


def _price_place(
    items: dict[str, Item], place: Place, month: float, copies: int, insights: bool
) -> None:
    management = (place.management + place.unclassified) * month
    items["management-extra-copies"].add(place.account, management * copies)
    items["data-events"].add(place.account, place.data * month)
    items["network-activity-events"].add(place.account, place.network_activity * month)
    if insights:
        write = (place.management_write + place.unclassified) * month
        items["insights"].add(place.account, 2 * write + place.management_read * month)
    items["cloudwatch-logs-ingestion"].add(place.account, place.event_bytes * month / GIB)
