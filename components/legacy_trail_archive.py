"""LegacyTrailArchive: archival lifecycle rules on the buckets of the old per-account trails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.archive_rules import SMALL_OBJECTS_STAY, archive_rule
from components.kept_rules import OUR_RULES, kept_rules
from orgtrail.contract.config import Archive, LegacyTrail


@dataclass
class LegacyTrailArchiveArgs:
    legacy_trails: tuple[LegacyTrail, ...]
    archive: Archive
    management_account_id: str
    partition: str = "aws"
    # Assumed in member accounts instead of each trail's roleName (read-only, for previews).
    role_name_override: str | None = None


class LegacyTrailArchive(pulumi.ComponentResource):
    """Keeps every legacy bucket, its logs and its own lifecycle rules; only moves the logs
    to a colder storage class (components/kept_rules.py).

    Each bucket is configured once, in its own region, through a provider for
    the account that owns it (several trails, of several accounts, may share
    one bucket). Trails themselves are left alone here: `orgtrail cutover`
    stops them once the organization trail is verifiably delivering, and
    nothing deletes them.
    """

    def __init__(
        self, name: str, args: LegacyTrailArchiveArgs, opts: pulumi.ResourceOptions | None = None
    ):
        """Registers the component and the providers of the buckets' owners only: the
        lifecycle configurations come with `keep_existing_rules`, once every bucket's own
        rules have been read."""
        super().__init__("org-trail:legacy_trail_archive:LegacyTrailArchive", name, None, opts)
        self._name = name
        self._args = args
        self._providers: dict[str, aws.Provider] = {}
        trails_by_bucket: dict[str, list[LegacyTrail]] = {}
        for trail in args.legacy_trails:
            trails_by_bucket.setdefault(trail.bucket, []).append(trail)
        self._buckets = {
            # config validation: one owner and one region per bucket
            bucket: (trails[0], self._provider_for(trails[0]), trails)
            for bucket, trails in trails_by_bucket.items()
        }

    async def keep_existing_rules(self) -> None:
        """Reads every bucket's own rules at once (one Cloud Control read each, concurrently),
        then refuses, naming each rule that cannot be kept, before any lifecycle configuration
        is registered; otherwise registers them, each with its own rules and ours."""
        buckets = list(self._buckets.items())
        found = await asyncio.gather(
            *(
                self._bucket_properties(bucket, owner, provider)
                for bucket, (owner, provider, _) in buckets
            )
        )
        planned, problems = [], []
        for (bucket, (owner, provider, trails)), properties in zip(buckets, found, strict=True):
            prefixes = dict.fromkeys(trail.log_prefix for trail in trails)
            ours = [
                archive_rule(f"{OUR_RULES}{index}", self._args.archive, prefix)
                for index, prefix in enumerate(prefixes)
            ]
            kept = kept_rules(bucket, properties, len(ours))
            problems += kept.problems
            planned.append((bucket, owner, provider, [*kept.rules, *ours]))
        if problems:
            raise pulumi.RunError(
                "the legacy buckets' own lifecycle rules cannot all be kept beside the archive "
                "rules (PutBucketLifecycleConfiguration replaces them all):\n  - "
                + "\n  - ".join(problems)
            )
        for bucket, owner, provider, rules in planned:
            aws.s3.BucketLifecycleConfiguration(
                f"{self._name}-{bucket}",
                bucket=bucket,
                expected_bucket_owner=owner.bucket_owner,
                region=owner.bucket_home,
                rules=rules,
                transition_default_minimum_object_size=SMALL_OBJECTS_STAY,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    # Removing an entry from config must never touch the bucket's rules.
                    retain_on_delete=True,
                ),
            )
        self.register_outputs({"buckets": sorted(self._buckets)})

    @staticmethod
    async def _bucket_properties(
        bucket: str, owner: LegacyTrail, provider: aws.Provider | None
    ) -> str | None:
        """The bucket as Cloud Control API describes it, read in its owner's account (the
        provider's aws.cloudcontrol.getResource, awaited so that every bucket is read at once:
        one blocking read after another cost 13 ms per legacy trail at 800, against 4)."""
        try:
            found = await pulumi.runtime.invoke_async(
                "aws:cloudcontrol/getResource:getResource",
                {"typeName": "AWS::S3::Bucket", "identifier": bucket, "region": owner.bucket_home},
                opts=pulumi.InvokeOptions(provider=provider),
                typ=aws.cloudcontrol.GetResourceResult,
            )
        except Exception as error:  # the engine's invoke error, whatever its type
            raise pulumi.RunError(
                f"cannot read the lifecycle rules legacy bucket {bucket} already has, so they "
                f"cannot be kept: {error}"
            ) from None
        return found.properties

    def _provider_for(self, owner: LegacyTrail) -> aws.Provider | None:
        """One provider per bucket-owning member account; the management account uses the stack's own."""
        account = owner.bucket_owner
        if account == self._args.management_account_id:
            return None
        if account not in self._providers:
            role = self._args.role_name_override or owner.role_name
            self._providers[account] = aws.Provider(
                f"legacy-{account}",
                region=owner.bucket_home,
                # Typed args, not a dict: provider config is sent as JSON, and only the
                # typed form is serialised with the provider's camelCase names.
                assume_roles=[
                    aws.ProviderAssumeRoleArgs(
                        role_arn=f"arn:{self._args.partition}:iam::{account}:role/{role}",
                        session_name="org-trail-legacy-archive",
                    )
                ],
                # Refuse to act if the role lands in any other account.
                allowed_account_ids=[account],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    aliases=[pulumi.Alias(name=f"legacy-{account}-{owner.role_name}")],
                ),
            )
        return self._providers[account]
