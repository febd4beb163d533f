"""What moving the legacy buckets to the archive class saves, measured per bucket.

Size and object count from CloudWatch's daily S3 storage metrics (free; namespace AWS/S3,
`BucketSizeBytes` with StorageType StandardStorage, `NumberOfObjects` with AllStorageTypes:
S3 User Guide, "Metrics and dimensions"), in the bucket owner's account and region; the share
of objects at or above the transition minimum (128 KB: smaller ones are not transitioned by
default) from a sampled listing under the trail's prefix; then the monthly saving of the
`legacyArchive` class configured, the one-time transition requests and the months to break
even. A bucket whose figures cannot be read says why; it is never counted as saving nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from orgtrail.contract.config import LegacyTrail, ManagementSettings
from orgtrail.cost.estimate import GIB
from orgtrail.cost.prices import CLASS_PRICES, OVERHEAD, PriceTable
from orgtrail.ops.aws import AWS_ERRORS, Account, error_text

TRANSITION_MINIMUM = 128 * 1024  # bytes: S3 lifecycle's default minimum object size
SAMPLE = 1000  # keys listed per bucket (one ListObjectsV2 page)


@dataclass
class BucketSaving:
    bucket: str
    account: str
    region: str
    storage_class: str
    standard_bytes: float | None = None
    objects: float | None = None
    sampled: int = 0
    eligible_bytes_share: float | None = None
    eligible_objects_share: float | None = None
    monthly_usd: float | None = None
    one_time_usd: float | None = None
    error: str | None = None

    @property
    def break_even_months(self) -> float | None:
        if not self.monthly_usd or self.one_time_usd is None or self.monthly_usd <= 0:
            return None
        return self.one_time_usd / self.monthly_usd


def _latest(cloudwatch, bucket: str, metric: str, storage_type: str, now: datetime) -> float:
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/S3",
        MetricName=metric,
        Dimensions=[
            {"Name": "BucketName", "Value": bucket},
            {"Name": "StorageType", "Value": storage_type},
        ],
        StartTime=now - timedelta(days=3),  # the metric is daily, and a day late
        EndTime=now,
        Period=86400,
        # S3 reports one datapoint a day per storage type: over a day's period its Maximum is
        # that datapoint (the Average the S3 User Guide names is the same value), and stays
        # so should one be reported twice (moto does that for PutMetricData into AWS/S3).
        Statistics=["Maximum"],
    )
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
    if not points:
        raise LookupError(f"no {metric} ({storage_type}) in the last 3 days")
    return float(points[-1]["Maximum"])


def _buckets(settings: ManagementSettings) -> dict[tuple[str, str, str], LegacyTrail]:
    """Each legacy bucket once (several trails may share one), by name, owner and region."""
    found: dict[tuple[str, str, str], LegacyTrail] = {}
    for trail in settings.legacy_trails:
        found.setdefault((trail.bucket, trail.bucket_owner, trail.bucket_home), trail)
    return found


def glacier_savings(
    management: Account, settings: ManagementSettings, prices: PriceTable, now: datetime
) -> list[BucketSaving]:
    target = settings.legacy_archive.storage_class
    storage_id, transition_id = CLASS_PRICES[target]
    standard, archived = prices["s3-standard-storage"], prices[storage_id]
    transition = prices[transition_id]
    savings = []
    for (bucket, owner, region), trail in _buckets(settings).items():
        saving = BucketSaving(bucket, owner, region, target)
        savings.append(saving)
        try:
            account = (
                management
                if owner == management.account_id
                else management.assume(owner, trail.role_name)
            )
            cloudwatch = account.client("cloudwatch", region)
            saving.standard_bytes = _latest(
                cloudwatch, bucket, "BucketSizeBytes", "StandardStorage", now
            )
            saving.objects = _latest(cloudwatch, bucket, "NumberOfObjects", "AllStorageTypes", now)
            listed = account.client("s3", region).list_objects_v2(
                Bucket=bucket, Prefix=trail.prefix, MaxKeys=SAMPLE
            )
        except (*AWS_ERRORS, LookupError) as error:
            saving.error = error_text(error) if not isinstance(error, LookupError) else str(error)
            continue
        sizes = [entry["Size"] for entry in listed.get("Contents", [])]
        saving.sampled = len(sizes)
        if not sizes:
            saving.error = "the listing under the trail's prefix returned no object to sample"
            continue
        eligible = [size for size in sizes if size >= TRANSITION_MINIMUM]
        saving.eligible_objects_share = len(eligible) / len(sizes)
        saving.eligible_bytes_share = sum(eligible) / max(sum(sizes), 1)
        moved_bytes = saving.standard_bytes * saving.eligible_bytes_share
        moved_objects = saving.objects * saving.eligible_objects_share
        in_class, in_standard = OVERHEAD.get(target, (0, 0))
        after = archived.cost((moved_bytes + moved_objects * in_class) / GIB) + standard.cost(
            moved_objects * in_standard / GIB
        )
        saving.monthly_usd = standard.cost(moved_bytes / GIB) - after
        saving.one_time_usd = transition.cost(moved_objects)
    return savings
