"""Where the organization trail delivers, and when, read from object keys alone.

CloudTrail names every log file for its delivery:
AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz
(digest files live under CloudTrail-Digest/ and are never read here). Listing
keys is enough to know when an account's logs arrived; no object is opened.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

from orgtrail.ops.aws import AWS_ERRORS

_LOG_FILE = re.compile(
    r"_CloudTrail_(?P<region>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{4}Z)_[^/]+\.json\.gz$"
)


def region_prefix(organization_id: str, account_id: str, region: str = "", prefix: str = "") -> str:
    """Where the trail writes one account's logs: [<prefix>/]AWSLogs/<org>/<account>/CloudTrail/[<region>/]."""
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    base += f"AWSLogs/{organization_id}/{account_id}/CloudTrail/"
    return f"{base}{region}/" if region else base


def delivery_time(key: str) -> datetime | None:
    match = _LOG_FILE.search(key)
    if match is None:
        return None
    return datetime.strptime(match.group("stamp"), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def deliveries(
    s3,
    bucket: str,
    organization_id: str,
    account_id: str,
    region: str,
    start: datetime,
    end: datetime,
    key_prefix: str = "",
) -> list[datetime]:
    """Delivery times of the account's log files for `region` in [start, end], oldest first.

    One listing from the window's first day on: keys sort by their YYYY/MM/DD folders, so
    StartAfter skips every earlier day (S3 API reference, ListObjectsV2 `StartAfter`), and a
    day's worth of five-minute deliveries fits in one page.
    """
    prefix = region_prefix(organization_id, account_id, region, key_prefix)
    first_day = f"{prefix}{start:%Y/%m/%d}/"
    times = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, StartAfter=first_day[:-1]):
        for item in page.get("Contents", []):
            at = delivery_time(item["Key"])
            if at is not None and start <= at <= end:
                times.append(at)
    return sorted(times)


def delivered_regions(
    s3, bucket: str, organization_id: str, account_id: str, key_prefix: str = ""
) -> list[str]:
    """Regions with any log file for the account, from the key hierarchy."""
    paginator = s3.get_paginator("list_objects_v2")
    prefix = region_prefix(organization_id, account_id, "", key_prefix)
    regions = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            regions.append(common["Prefix"][len(prefix) :].rstrip("/"))
    return regions


def coverage_gap(
    times: list[datetime], start: datetime, end: datetime, max_gap: timedelta
) -> str | None:
    """Why deliveries do not cover [start, end] without a silence longer than max_gap, or None."""
    if not times:
        return f"no log file delivered between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
    if times[0] - start > max_gap:
        covered = (end - times[0]).total_seconds() / 3600
        return f"first delivery at {times[0]:%Y-%m-%d %H:%M} UTC covers only {covered:.1f} h of the window"
    for before, after in itertools.pairwise(times):
        if after - before > max_gap:
            hours = (after - before).total_seconds() / 3600
            return f"no delivery for {hours:.1f} h between {before:%Y-%m-%d %H:%M} and {after:%Y-%m-%d %H:%M} UTC"
    if end - times[-1] > max_gap:
        hours = (end - times[-1]).total_seconds() / 3600
        return f"last delivery at {times[-1]:%Y-%m-%d %H:%M} UTC, {hours:.1f} h ago"
    return None


def own_log_buckets(reader, bucket: str) -> tuple[str, ...]:
    """ARN prefixes of the log bucket and its access-log target: excluded from data events by design."""
    prefixes = [f"arn:{reader.partition}:s3:::{bucket}/"]
    try:
        target = reader.client("s3").get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {})
    except AWS_ERRORS:
        target = {}  # unreadable: only the bucket itself is accepted, which is the stricter way
    if target.get("TargetBucket"):
        prefixes.append(f"arn:{reader.partition}:s3:::{target['TargetBucket']}/")
    return tuple(prefixes)
