"""A month of the configured stacks, priced: each item from a measured count and a cited price.

The files read may come from any trail; a month is priced for what the configured
organization trail records of them (its selectors, components/organization_trail.py), and
what it would not record is said, never priced. Items, per account and for the organisation
(the monthly quantity is the count over the window read, scaled to a month):

- management events, extra copies: the organization trail's copy is the first and free; each
  legacy trail of the management stack's config is one more copy of its account's
  management events in its region, charged, until `cutover` stops it;
- data events, each kind its own item: S3 reads and writes (with dataEvents.s3), reads of
  the log buckets (their own selector, always), writes to them (only with
  s3IncludeTrailBucket: each file CloudTrail delivers is one), Lambda (dataEvents.lambda),
  network activity events of the sources configured; every delivery is charged;
- Insights, per insight type (CloudTrail User Guide, "Costs for Insights events"): API call
  rate analyses write management events, API error rate every management event;
- CloudWatch Logs ingestion: every event the trail records is sent to its log group, data
  events included (their share its own item), at its uncompressed size;
- the log bucket: a month's files kept for the Object Lock retention (S3 Standard, then the
  lifecycle's class), their PUT requests and one KMS request per file.

What cannot be measured from the files read is listed in `not_measured`, never priced as zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orgtrail.contract.config import (
    Archive,
    DataEvents,
    ManagementSettings,
    ObjectLock,
    SecuritySettings,
)
from orgtrail.cost.prices import CLASS_PRICES, OVERHEAD, Price, PriceTable
from orgtrail.cost.volume import MONTH_DAYS, Place, Volume

GIB = 2**30  # AWS bills a "GB" of storage and of ingestion as 2**30 bytes


# Each item belongs to one group: the tables' subtotals, and what `plan`'s warnings read.
GROUPS = {
    "management": "management events",
    "data-events": "data and network activity events",
    "insights": "Insights",
    "cloudwatch-logs": "CloudWatch Logs",
    "log-bucket": "the log bucket",
}


@dataclass
class Item:
    id: str
    name: str
    price: Price
    group: str
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

    def account_totals(self) -> dict[str, float]:
        """USD a month per account, every item's share summed."""
        return {
            account: sum(item.account_usd(account) for item in self.items)
            for account in self.accounts()
        }

    def groups(self) -> dict[str, float]:
        """USD a month by group, in GROUPS' order, the groups without items left out."""
        totals: dict[str, float] = {}
        for item in self.items:
            totals[item.group] = totals.get(item.group, 0.0) + item.usd
        return {group: totals[group] for group in GROUPS if group in totals}


@dataclass(frozen=True)
class Recorded:
    """What the configured trail records of one place's events (counts over the window)."""

    management: int
    management_write: int
    data: dict[str, int]  # item id -> events
    not_recorded: dict[str, int]  # why -> events

    @property
    def data_events(self) -> int:
        return sum(self.data.values())

    @property
    def events(self) -> int:
        return self.management + self.data_events


def recorded(place: Place, data: DataEvents) -> Recorded:
    """The configured selectors' view of a place's events (components/organization_trail.py):
    management events always; S3 objects with dataEvents.s3, the log buckets' objects apart
    (their reads always, their writes only with s3IncludeTrailBucket); Lambda with
    dataEvents.lambda; network activity of the configured sources; no other data event."""
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}

    def take(item_id: str, events: int, wanted: bool, why: str) -> None:
        if wanted:
            kept[item_id] = kept.get(item_id, 0) + events
        elif events:
            dropped[why] = dropped.get(why, 0) + events

    s3_off = "S3 data events (dataEvents.s3 is false)"
    take("s3-data-reads", place.s3_read, data.s3, s3_off)
    take("s3-data-writes", place.s3_write, data.s3, s3_off)
    take("log-bucket-reads", place.log_bucket_reads, True, "")
    take(
        "log-bucket-writes",
        place.log_bucket_writes,
        data.s3 and data.s3_include_trail_bucket,
        "writes to the log buckets (dataEvents.s3IncludeTrailBucket is false)",
    )
    take("lambda-data-events", place.lambda_data, data.lambda_functions,
         "Lambda data events (dataEvents.lambda is false)")  # fmt: skip
    take("other-data-events", place.other_data, False,
         "data events of other sources (DynamoDB and others: the stack records none)")  # fmt: skip
    for source, events in place.network_activity.items():
        take("network-activity-events", events, source in data.network_activity,
             f"network activity events of {source} (not in dataEvents.networkActivity)")  # fmt: skip
    take("network-activity-events", place.network_other, False,
         "network activity events of sources the stack cannot record")  # fmt: skip
    return Recorded(
        management=place.management + place.unclassified,
        management_write=place.management_write + place.unclassified,
        data=kept,
        not_recorded=dropped,
    )


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
        assumptions.append(
            "the management stack's defaults (no management stack file given): S3 and Lambda "
            "data events recorded, no network activity events, Insights on"
        )
    else:
        assumptions.append(
            "each legacy trail is one extra copy of its account's management events in its "
            "region (a multi-region legacy trail copies every region: `orgtrail inventory` says "
            "which are)"
        )
    data = management.data_events if management else DataEvents()
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
    items = _items(prices, data, lifecycle.storage_class, log_group_days, standard_days, kept_days)
    digest_share = volume.digest_files / max(volume.total("files"), 1)
    if volume.digest_files:
        assumptions.append("digest files are shared among accounts as their log files are")
    not_recorded: Counter[str] = Counter()
    for place in volume.places:
        seen = recorded(place, data)
        not_recorded.update(seen.not_recorded)
        _price_events(items, place.account, seen, month, copies[(place.account, place.region)])
        # The bytes the configured trail delivers: the files' bytes by its share of the events.
        share = seen.events / place.events if place.events else 0.0
        data_share = seen.data_events / seen.events if seen.events else 0.0
        ingested = place.event_bytes * share * month / GIB
        items["cloudwatch-logs-ingestion"].add(place.account, ingested * (1 - data_share))
        items["cloudwatch-logs-ingestion-data"].add(place.account, ingested * data_share)
        files = place.files * (1 + digest_share) * month
        items["s3-put-requests"].add(place.account, files)
        items["kms-requests"].add(place.account, files)
        monthly = place.stored_bytes * share * month / GIB  # GB delivered a month
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
    for why, events in sorted(not_recorded.items()):
        assumptions.append(
            f"{events * month:,.0f} {why} a month in the files read: the configured trail "
            "would not record them, not priced"
        )
    if any(not_recorded.values()):
        assumptions.append(
            "the bytes delivered, ingested and stored are the files' bytes times the configured "
            "trail's share of their events; the number of files as measured"
        )
    assumptions.append(
        "CloudWatch Logs ingestion split between management and data events by their counts"
    )
    if not insights:
        del items["insights-api-call-rate"], items["insights-api-error-rate"]
    if not volume.files_measured:
        for unmeasured in [i for i, item in items.items() if item.group in FILE_GROUPS]:
            del items[unmeasured]
        not_measured.append(
            "the log files, their number and sizes (CloudWatch Logs ingestion, the bucket's "
            "storage, PUT and KMS requests): Athena counts events, not files; measure a day "
            "of files with --logs"
        )
    not_measured += _data_unknowns(volume, data, items, assumptions)
    unclassified = volume.total("unclassified")
    if unclassified:
        assumptions.append(
            f"{unclassified:,} events without an eventCategory are priced as management events"
        )
    return Estimate(volume, prices, list(items.values()), not_measured, assumptions)


# Priced from the files' number and sizes: what Athena's counts cannot give.
FILE_GROUPS = ("cloudwatch-logs", "log-bucket")


def _items(
    prices: PriceTable,
    data: DataEvents,
    archive_class: str,
    log_group_days: int,
    standard_days: int,
    kept_days: int,
) -> dict[str, Item]:
    """The items the configuration can cost, empty: each data event kind only when recorded."""
    archive_price, transition_price = CLASS_PRICES[archive_class]
    data_price = prices["data-events"]
    wanted = (
        Item("management-extra-copies", "management events, extra copies (legacy trails)",
             prices["management-events-extra-copy"], "management"),
        data.s3 and Item("s3-data-reads", "S3 data events, reads", data_price, "data-events"),
        data.s3 and Item("s3-data-writes", "S3 data events, writes", data_price, "data-events"),
        Item("log-bucket-reads", "reads of the log buckets (their own selector)", data_price,
             "data-events"),
        data.s3 and data.s3_include_trail_bucket and Item(
            "log-bucket-writes", "writes to the log buckets (s3IncludeTrailBucket)", data_price,
            "data-events"),
        data.lambda_functions and Item("lambda-data-events", "Lambda data events", data_price,
                                       "data-events"),
        data.network_activity and Item(
            "network-activity-events",
            f"network activity events ({', '.join(data.network_activity)})",
            prices["network-activity-events"], "data-events"),
        Item("insights-api-call-rate", "Insights, API call rate (write management events)",
             prices["insights-events-analysed"], "insights"),
        Item("insights-api-error-rate", "Insights, API error rate (every management event)",
             prices["insights-events-analysed"], "insights"),
        Item("cloudwatch-logs-ingestion", "CloudWatch Logs ingestion, management events",
             prices["cloudwatch-logs-ingestion"], "cloudwatch-logs"),
        Item("cloudwatch-logs-ingestion-data",
             "CloudWatch Logs ingestion, data events (every event recorded is sent)",
             prices["cloudwatch-logs-ingestion"], "cloudwatch-logs"),
        Item("cloudwatch-logs-storage", f"CloudWatch Logs storage, {log_group_days} days kept",
             prices["cloudwatch-logs-storage"], "cloudwatch-logs"),
        Item("s3-storage", f"log bucket storage, the first {standard_days} days (S3 Standard)",
             prices["s3-standard-storage"], "log-bucket"),
        Item("s3-archive-storage",
             f"log bucket storage, days {standard_days} to {kept_days} ({archive_class})",
             prices[archive_price], "log-bucket"),
        Item("s3-transitions", f"lifecycle transitions to {archive_class}",
             prices[transition_price], "log-bucket"),
        Item("s3-put-requests", "log bucket PUT requests (log and digest files)",
             prices["s3-put-requests"], "log-bucket"),
        Item("kms-requests", "KMS requests (one data key per file)", prices["kms-requests"],
             "log-bucket"),
    )  # fmt: skip
    return {item.id: item for item in wanted if item}


def _price_events(
    items: dict[str, Item], account: str, seen: Recorded, month: float, copies: int
) -> None:
    items["management-extra-copies"].add(account, seen.management * month * copies)
    for item_id, events in seen.data.items():
        items[item_id].add(account, events * month)
    items["insights-api-call-rate"].add(account, seen.management_write * month)
    items["insights-api-error-rate"].add(account, seen.management * month)


def _data_unknowns(
    volume: Volume, data: DataEvents, items: dict[str, Item], assumptions: list[str]
) -> list[str]:
    """What the files cannot say of the data events the configuration records."""
    unknown = []
    if volume.total("data") == 0 and (data.s3 or data.lambda_functions):
        unknown.append(
            "data events: the files read hold none; if the stack records them, measure a day "
            "of logs after switching them on (a whole organisation's S3 reads can cost more "
            "than everything else here)"
        )
    if not volume.log_buckets:
        if data.s3:
            assumptions.append(
                "the log buckets are not known (no security stack file given): their reads "
                "and writes in the files are priced as other S3 data events"
            )
        elif volume.total("s3_data"):
            unknown.append(
                "reads of the log buckets: recorded by their own selector with dataEvents.s3 "
                "false, but not told apart from the other S3 data events in the files without "
                "the security stack's file (--stack-config Pulumi.<security stack>.yaml)"
            )
    writes = items.get("log-bucket-writes")
    if writes is not None and writes.quantity == 0:
        if volume.files_measured:
            # Each log and digest file CloudTrail delivers is a PutObject on a log bucket: a
            # data event the trail records when it records the bucket's writes.
            for account, files in items["s3-put-requests"].per_account.items():
                writes.add(account, files)
            assumptions.append(
                "writes to the log buckets: none in the files read, so each file delivered a "
                f"month ({writes.quantity:,.0f}) is priced as one, CloudTrail's own PutObject: a "
                "floor"
            )
        else:
            unknown.append(
                "writes to the log buckets (s3IncludeTrailBucket): none in the events counted "
                "and the files delivered not counted; measure a day of files with --logs"
            )
    return unknown
