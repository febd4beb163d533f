"""Lifecycle rules that move logs to an archive class, shared by every bucket we touch."""

from __future__ import annotations

from orgtrail.config import Archive


def archive_rule(rule_id: str, archive: Archive, prefix: str = "") -> dict:
    """One lifecycle rule: transition current and old versions, expire only when asked.

    Expiration is never added implicitly: on a locked bucket S3 refuses to
    delete before retention ends anyway, and on legacy buckets logs are kept
    unless the operator chose otherwise.
    """
    rule: dict = {
        "id": rule_id,
        "status": "Enabled",
        "filter": {"prefix": prefix},
        "transitions": [
            {"days": archive.archive_after_days, "storage_class": archive.storage_class}
        ],
        "noncurrent_version_transitions": [
            {"noncurrent_days": archive.archive_after_days, "storage_class": archive.storage_class}
        ],
        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
    }
    if archive.expire_after_days is not None:
        rule["expiration"] = {"days": archive.expire_after_days}
        rule["noncurrent_version_expiration"] = {"noncurrent_days": 1}
    return rule


def expiry_rule(rule_id: str, days: int) -> dict:
    """Delete current objects after `days`, and old versions a day after they are replaced."""
    return {
        "id": rule_id,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "expiration": {"days": days},
        "noncurrent_version_expiration": {"noncurrent_days": 1},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
    }
