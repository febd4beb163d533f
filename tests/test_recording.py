"""What a trail records, read from CloudTrail's answers, and when one trail covers another: the
trail's scope here; its selectors in test_selectors.py."""

from orgtrail.ops.recording import missing, recording
from tests.support.selector_documents import advanced, field, management, selector

TRAIL = {
    "Name": "t",
    "TrailARN": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
    "HomeRegion": "us-east-1",
    "IsMultiRegionTrail": True,
    "IncludeGlobalServiceEvents": True,
    "S3BucketName": "b",
}
ORG = {**TRAIL, "Name": "org", "IsOrganizationTrail": True}
LOG_BUCKET = "arn:aws:s3:::central-logs/"
NO_SELECTORS = {"EventSelectors": [], "AdvancedEventSelectors": []}


MANAGEMENT = management(name="s")
ALL_S3_BUT_LOGS = selector(
    field("eventCategory", Equals=["Data"]),
    field("resources.type", Equals=["AWS::S3::Object"]),
    field("resources.ARN", NotStartsWith=[LOG_BUCKET]),
)
EVERY_S3_OBJECT = {
    "EventSelectors": [
        {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
    ]
}  # fmt: skip


def test_a_trail_with_the_same_scope_and_selectors_is_covered():
    legacy = recording(TRAIL, advanced(MANAGEMENT, ALL_S3_BUT_LOGS))
    assert missing(legacy, recording(ORG, advanced(MANAGEMENT, ALL_S3_BUT_LOGS))) == []


def test_an_org_trail_leaving_out_only_accepted_buckets_covers_all_s3_events():
    legacy = recording(TRAIL, EVERY_S3_OBJECT)
    org = recording(ORG, advanced(MANAGEMENT, ALL_S3_BUT_LOGS))
    assert missing(legacy, org, accepted_exclusions=(LOG_BUCKET,)) == []
    assert missing(legacy, org) == [
        f"read and write AWS::S3::Object data events under {LOG_BUCKET}"
    ]


def test_regions_global_events_and_insights_are_compared():
    both = [{"InsightType": "ApiErrorRateInsight"}, {"InsightType": "ApiCallRateInsight"}]
    legacy = recording(TRAIL, {}, {"InsightSelectors": both})
    single = recording(
        {**ORG, "IsMultiRegionTrail": False, "IncludeGlobalServiceEvents": False}, {}
    )
    assert missing(legacy, single) == [
        "every region (the organization trail is single-region)",
        "global service events (IAM, STS, CloudFront)",
        "Insights ApiCallRateInsight, ApiErrorRateInsight",
    ]


def test_a_single_region_org_trail_covers_a_trail_of_its_own_region_only():
    single_org = recording({**ORG, "IsMultiRegionTrail": False}, {})
    here = recording({**TRAIL, "IsMultiRegionTrail": False}, {})
    there = recording({**TRAIL, "IsMultiRegionTrail": False, "HomeRegion": "eu-west-1"}, {})
    assert missing(here, single_org) == []
    assert missing(there, single_org) == [
        "region eu-west-1 (the organization trail is single-region)"
    ]


def test_a_legacy_organization_trail_is_never_taken_for_a_member_trail():
    other_org_trail = recording({**ORG, "Name": "old-org"}, NO_SELECTORS)
    assert missing(other_org_trail, recording(ORG, NO_SELECTORS)) == [
        "old-org is itself an organization trail: cutover does not stop one; "
        "check every account and region it covers and stop it by hand"
    ]


def test_a_legacy_selector_that_cannot_be_read_is_never_taken_as_covered():
    unreadable = selector(
        field("eventCategory", Equals=["Management"]), field("eventName", Equals=["x"])
    )
    legacy = recording(TRAIL, advanced(unreadable))
    everything = recording(ORG, NO_SELECTORS)
    assert missing(legacy, everything) == [
        "what the legacy trail's advanced selector 's': eventName is not a field of Management "
        "selectors on trails records (not read, so never proven covered)"
    ]


def test_an_org_selector_that_cannot_be_read_counts_for_nothing_and_is_named_with_the_gaps():
    unreadable = selector(
        field("eventCategory", Equals=["Management"]),
        field("eventSource", StartsWith=["kms"]),
        name="narrow",
    )
    org = recording(ORG, advanced(unreadable))
    assert missing(recording(TRAIL, NO_SELECTORS), org) == [
        "read and write management events",
        "(the organization trail's advanced selector 'narrow': eventSource StartsWith is not a "
        "form CloudTrail takes for Management selectors (only NotEquals): not read, so not counted)",
    ]
    # Union semantics: the selectors it can read may still prove coverage on their own.
    with_management = recording(ORG, advanced(unreadable, MANAGEMENT))
    assert missing(recording(TRAIL, NO_SELECTORS), with_management) == []


def test_the_partition_is_read_from_the_trail_arn():
    assert recording(TRAIL, {}).partition == "aws"
    gov = {**TRAIL, "TrailARN": "arn:aws-us-gov:cloudtrail:us-gov-west-1:111111111111:trail/t"}
    assert recording(gov, {}).partition == "aws-us-gov"


def test_insight_selectors_are_read():
    found = recording(TRAIL, {}, {"InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]})
    assert found.insights == {"ApiCallRateInsight"}
    assert recording(TRAIL, {}).insights == frozenset()
