"""What a trail records, from DescribeTrails, GetEventSelectors and GetInsightSelectors.

`cutover` stops a legacy trail only when the organization trail records a
superset of it; `verify` checks the organization trail records what the
detections rely on. Both read trails through `recording()`, and compare
through `missing()`: the trail's scope (organization, regions, global service
events, Insights) here, its event selectors in `orgtrail.ops.selectors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orgtrail.ops.selectors import Selectors, gaps, read_selectors


@dataclass
class Recording:
    name: str
    arn: str
    bucket: str  # where it delivers: S3BucketName and S3KeyPrefix
    prefix: str
    organization: bool
    multi_region: bool
    home_region: str
    global_events: bool
    selectors: Selectors = field(default_factory=Selectors)
    insights: frozenset[str] = frozenset()

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 5 else "aws"


def recording(trail: dict, selectors: dict, insights: dict | None = None) -> Recording:
    """What `trail` (a DescribeTrails entry) records, given its selectors and insights."""
    found = Recording(
        name=trail.get("Name", ""),
        arn=trail.get("TrailARN", ""),
        bucket=trail.get("S3BucketName", ""),
        prefix=trail.get("S3KeyPrefix") or "",
        organization=bool(trail.get("IsOrganizationTrail")),
        multi_region=bool(trail.get("IsMultiRegionTrail")),
        home_region=trail.get("HomeRegion", ""),
        global_events=bool(trail.get("IncludeGlobalServiceEvents")),
        insights=frozenset(
            item["InsightType"] for item in (insights or {}).get("InsightSelectors", [])
        ),
    )
    found.selectors = read_selectors(selectors, found.partition)
    return found


def missing(
    legacy: Recording, organization: Recording, accepted_exclusions: tuple[str, ...] = ()
) -> list[str]:
    """What `legacy` records that `organization` does not (empty: a proven superset)."""
    found = []
    if legacy.organization:
        found.append(
            f"{legacy.name} is itself an organization trail: cutover does not stop one; "
            "check every account and region it covers and stop it by hand"
        )
    if legacy.multi_region and not organization.multi_region:
        found.append("every region (the organization trail is single-region)")
    elif not organization.multi_region and legacy.home_region != organization.home_region:
        found.append(f"region {legacy.home_region} (the organization trail is single-region)")
    if legacy.global_events and not organization.global_events:
        found.append("global service events (IAM, STS, CloudFront)")
    found += [
        f"what the legacy trail's {unread} records (not read, so never proven covered)"
        for unread in legacy.selectors.unreadable
    ]
    events = gaps(
        legacy.selectors.read,
        organization.selectors.read,
        organization.partition,
        accepted_exclusions,
    )
    found += [gap.text for gap in events]
    if events:
        # What was not read never counts as recording: it may be why these are missing.
        found += [
            f"(the organization trail's {unread}: not read, so not counted)"
            for unread in organization.selectors.unreadable
        ]
    if legacy.insights - organization.insights:
        found.append(f"Insights {', '.join(sorted(legacy.insights - organization.insights))}")
    return found
