"""What a trail records, from DescribeTrails, GetEventSelectors and GetInsightSelectors.

`cutover` stops a legacy trail only when the organization trail records a
superset of it; `verify` checks the organization trail records what the
detections rely on. Both read trails through `recording()`.

Selectors are read as CloudTrail documents them (API reference,
PutEventSelectors and AdvancedFieldSelector): basic selectors by
ReadWriteType, IncludeManagementEvents and DataResources; advanced selectors
by eventCategory, readOnly, resources.type and resources.ARN. A trail with
no selectors at all records every management event, read and write, and no
data events ("By default, trails created without specific event selectors
are configured to log all read and write management events"). Any other
field narrows what a selector records: on a legacy trail that only makes the
comparison stricter, on the organization trail it is reported as something
this tool cannot prove.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

READ, WRITE = "read", "write"
BOTH = frozenset({READ, WRITE})
UNDERSTOOD_FIELDS = ("eventCategory", "readOnly", "resources.type", "resources.ARN")
# A basic selector's value for every resource of its type, in any partition: arn:aws:s3,
# arn:aws:s3:::, arn:aws-us-gov:lambda (CloudTrail user guide, "Logging data events").
EVERY_RESOURCE = re.compile(r"arn:[a-z-]+:(s3|lambda):*")


@dataclass(frozen=True)
class DataScope:
    """Data events of one resource type: which access, on which resources."""

    access: frozenset[str]
    starts_with: tuple[str, ...] = ()  # empty: every resource of the type
    not_starts_with: tuple[str, ...] = ()

    def covers(self, arn_prefix: str | None, accepted_exclusions: tuple[str, ...] = ()) -> bool:
        """Whether resources under `arn_prefix` (None: every resource) are recorded.

        Exclusions the operator accepted (the organization trail's own log
        buckets, say) do not count against "every resource".
        """
        if arn_prefix is None:
            excluded = [p for p in self.not_starts_with if p not in accepted_exclusions]
            return not self.starts_with and not excluded
        if self.starts_with and not any(arn_prefix.startswith(p) for p in self.starts_with):
            return False
        return not any(
            arn_prefix.startswith(p) or p.startswith(arn_prefix) for p in self.not_starts_with
        )


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
    management: frozenset[str]
    data: dict[str, list[DataScope]] = field(default_factory=dict)
    insights: frozenset[str] = frozenset()
    not_understood: list[str] = field(default_factory=list)

    def data_access(
        self, resource_type: str, arn_prefix: str | None, accepted: tuple[str, ...] = ()
    ) -> frozenset[str]:
        """The access recorded for resources of `resource_type` under `arn_prefix`."""
        access: set[str] = set()
        for scope in self.data.get(resource_type, []):
            if scope.covers(arn_prefix, accepted):
                access |= scope.access
        return frozenset(access)


def _access(read_only: list[str] | None) -> frozenset[str]:
    if not read_only:
        return BOTH
    return frozenset(READ if value.lower() == "true" else WRITE for value in read_only)


def _basic(recording: Recording, selectors: list[dict]) -> None:
    for selector in selectors:
        access = {"All": BOTH, "ReadOnly": frozenset({READ}), "WriteOnly": frozenset({WRITE})}[
            selector.get("ReadWriteType", "All")
        ]
        if selector.get("IncludeManagementEvents", True):
            recording.management |= access
        for resource in selector.get("DataResources", []):
            values = resource.get("Values", [])
            every = any(EVERY_RESOURCE.fullmatch(value) for value in values)
            scope = DataScope(access, () if every else tuple(values))
            recording.data.setdefault(resource.get("Type", ""), []).append(scope)


def _advanced(recording: Recording, selectors: list[dict]) -> None:
    for selector in selectors:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        for name in fields:
            if name not in UNDERSTOOD_FIELDS:
                recording.not_understood.append(
                    f"selector {selector.get('Name', '')!r} narrows by {name}"
                )
        access = _access(fields.get("readOnly", {}).get("Equals"))
        categories = fields.get("eventCategory", {}).get("Equals", [])
        if "Management" in categories:
            recording.management |= access
        if "Data" not in categories:
            continue
        arn = fields.get("resources.ARN", {})
        scope = DataScope(
            access,
            tuple(arn.get("StartsWith", []) + arn.get("Equals", [])),
            tuple(arn.get("NotStartsWith", [])),
        )
        for resource_type in fields.get("resources.type", {}).get("Equals", []):
            recording.data.setdefault(resource_type, []).append(scope)


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
        management=frozenset(),
        insights=frozenset(
            item["InsightType"] for item in (insights or {}).get("InsightSelectors", [])
        ),
    )
    basic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        found.management = BOTH  # CloudTrail's default for a trail without selectors
    _basic(found, basic)
    _advanced(found, advanced)
    return found


def _names(access: frozenset[str]) -> str:
    return " and ".join(sorted(access))


def missing(
    legacy: Recording, organization: Recording, accepted_exclusions: tuple[str, ...] = ()
) -> list[str]:
    """What `legacy` records that `organization` does not (empty: a superset)."""
    gaps = [f"the organization trail's {reason}" for reason in organization.not_understood]
    if legacy.organization:
        gaps.append(
            f"{legacy.name} is itself an organization trail: cutover does not stop one; "
            "check every account and region it covers and stop it by hand"
        )
    if legacy.multi_region and not organization.multi_region:
        gaps.append("every region (the organization trail is single-region)")
    elif not organization.multi_region and legacy.home_region != organization.home_region:
        gaps.append(f"region {legacy.home_region} (the organization trail is single-region)")
    if legacy.global_events and not organization.global_events:
        gaps.append("global service events (IAM, STS, CloudFront)")
    if legacy.management - organization.management:
        gaps.append(f"{_names(legacy.management - organization.management)} management events")
    for resource_type, scopes in legacy.data.items():
        for scope in scopes:
            for prefix in scope.starts_with or (None,):
                have = organization.data_access(resource_type, prefix, accepted_exclusions)
                lacking = scope.access - have
                if lacking:
                    where = f" under {prefix}" if prefix else ""
                    gaps.append(f"{_names(lacking)} {resource_type} data events{where}")
    if legacy.insights - organization.insights:
        gaps.append(f"Insights {', '.join(sorted(legacy.insights - organization.insights))}")
    return gaps
