"""LegacyTrailArchive: archival lifecycle rules on the buckets of the old per-account trails."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.archive_rules import archive_rule
from orgtrail.config import Archive, LegacyTrail


@dataclass
class LegacyTrailArchiveArgs:
    legacy_trails: tuple[LegacyTrail, ...]
    archive: Archive
    management_account_id: str
    partition: str = "aws"


class LegacyTrailArchive(pulumi.ComponentResource):
    """Keeps every legacy bucket and its logs; only moves them to a colder storage class.

    Trails themselves are left alone here: `orgtrail cutover` stops them once
    the organization trail is verifiably delivering, and nothing deletes them.
    """

    def __init__(
        self, name: str, args: LegacyTrailArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:legacy_trail_archive:LegacyTrailArchive", name, None, opts)
        providers: dict[tuple[str, str], aws.Provider] = {}
        trails_by_bucket: dict[str, list[LegacyTrail]] = {}
        for trail in args.legacy_trails:
            trails_by_bucket.setdefault(trail.bucket, []).append(trail)

        for bucket, trails in trails_by_bucket.items():
            owner = trails[0]  # config validation ensures one owning account per bucket
            prefixes = dict.fromkeys(trail.log_prefix for trail in trails)
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-{bucket}",
                bucket=bucket,
                expected_bucket_owner=owner.account_id,
                region=owner.bucket_region,
                rules=[
                    archive_rule(f"org-trail-archive-{index}", args.archive, prefix)
                    for index, prefix in enumerate(prefixes)
                ],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=self._provider_for(owner, args, providers),
                    # Removing an entry from config must never touch the bucket's rules.
                    retain_on_delete=True,
                ),
            )
        self.register_outputs({"buckets": sorted(trails_by_bucket)})

    def _provider_for(
        self,
        trail: LegacyTrail,
        args: LegacyTrailArchiveArgs,
        providers: dict[tuple[str, str], aws.Provider],
    ) -> aws.Provider | None:
        """One provider per member account and role; the management account uses the stack's own."""
        if trail.account_id == args.management_account_id:
            return None
        key = (trail.account_id, trail.role_name)
        if key not in providers:
            providers[key] = aws.Provider(
                f"legacy-{trail.account_id}-{trail.role_name}",
                region=trail.region,
                # Typed args, not a dict: provider config is sent as JSON, and only the
                # typed form is serialised with the provider's camelCase names.
                assume_roles=[
                    aws.ProviderAssumeRoleArgs(
                        role_arn=f"arn:{args.partition}:iam::{trail.account_id}:role/{trail.role_name}",
                        session_name="org-trail-legacy-archive",
                    )
                ],
                # Refuse to act if the role lands in any other account.
                allowed_account_ids=[trail.account_id],
                opts=pulumi.ResourceOptions(parent=self),
            )
        return providers[key]
