"""What a trail records, read from CloudTrail's answers, and when one trail covers another."""

import pytest

from orgtrail.recording import BOTH, READ, WRITE, DataScope, Recording, missing, recording

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


def advanced(*selectors):
    return {"AdvancedEventSelectors": list(selectors)}


def selector(*fields):
    return {"Name": "s", "FieldSelectors": list(fields)}


def field(name, **operators):
    return {"Field": name, **operators}


MANAGEMENT = selector(field("eventCategory", Equals=["Management"]))
ALL_S3_BUT_LOGS = selector(
    field("eventCategory", Equals=["Data"]),
    field("resources.type", Equals=["AWS::S3::Object"]),
    field("resources.ARN", NotStartsWith=[LOG_BUCKET]),
)


def test_a_trail_without_selectors_records_every_management_event_and_no_data():
    found = recording(TRAIL, {"EventSelectors": [], "AdvancedEventSelectors": []})
    assert found.management == BOTH
    assert found.data == {}


@pytest.mark.parametrize(
    ("read_write", "access"),
    # Without ReadWriteType, a basic selector records both (CloudTrail API reference,
    # EventSelector: "By default, the value is All").
    [("All", BOTH), ("ReadOnly", {READ}), ("WriteOnly", {WRITE}), (None, BOTH)],
)
def test_basic_selectors_are_read_by_read_write_type(read_write, access):
    basic = {
        "EventSelectors": [
            {
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
            | ({"ReadWriteType": read_write} if read_write else {})
        ]
    }
    found = recording(TRAIL, basic)
    assert found.management == access
    assert found.data_access("AWS::S3::Object", None) == access


@pytest.mark.parametrize(
    ("include", "management"),
    # Without IncludeManagementEvents, a basic selector records them (CloudTrail API reference,
    # EventSelector: "By default, the value is true").
    [(True, BOTH), (False, frozenset()), (None, BOTH)],
)
def test_basic_selectors_record_management_events_unless_they_say_not_to(include, management):
    data_only = {
        "ReadWriteType": "All",
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
    }
    if include is not None:
        data_only["IncludeManagementEvents"] = include
    found = recording(TRAIL, {"EventSelectors": [data_only]})
    assert found.management == management
    assert found.data == {"AWS::S3::Object": [DataScope(BOTH, ())]}


S3, LAMBDA = "AWS::S3::Object", "AWS::Lambda::Function"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:f"


@pytest.mark.parametrize(
    ("resource_type", "values", "starts_with"),
    [
        (S3, ["arn:aws:s3"], ()),
        (S3, ["arn:aws:s3:::"], ()),
        (S3, ["arn:aws-us-gov:s3:::"], ()),
        (LAMBDA, ["arn:aws:lambda"], ()),
        (LAMBDA, ["arn:aws-cn:lambda"], ()),
        (S3, ["arn:aws:s3:::logs/", "arn:aws:s3"], ()),  # every bucket, that one among them
        (S3, ["arn:aws:s3:::logs/"], ("arn:aws:s3:::logs/",)),
        (S3, ["arn:aws:s3:::s3"], ("arn:aws:s3:::s3",)),  # a bucket named s3
        (LAMBDA, [FUNCTION], (FUNCTION,)),
    ],
)
def test_basic_data_resources_are_every_resource_of_the_type_or_the_ones_named(
    resource_type, values, starts_with
):
    selector = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False}
    selector["DataResources"] = [{"Type": resource_type, "Values": values}]
    found = recording(TRAIL, {"EventSelectors": [selector]})
    assert found.data == {resource_type: [DataScope(frozenset({WRITE}), starts_with)]}


def test_management_events_of_several_advanced_selectors_add_up():
    reads, writes = (
        selector(field("eventCategory", Equals=["Management"]), field("readOnly", Equals=[value]))
        for value in ("true", "false")
    )
    assert recording(TRAIL, advanced(reads, writes)).management == BOTH


def test_advanced_resources_arn_equals_and_starts_with_both_name_what_is_recorded():
    objects = selector(
        field("eventCategory", Equals=["Data"]),
        field("resources.type", Equals=[S3]),
        field("resources.ARN", StartsWith=["arn:aws:s3:::a/"], Equals=["arn:aws:s3:::b/key"]),
    )
    found = recording(TRAIL, advanced(objects))
    assert found.data == {S3: [DataScope(BOTH, ("arn:aws:s3:::a/", "arn:aws:s3:::b/key"))]}


def test_an_advanced_data_selector_without_a_resource_type_records_no_data():
    assert recording(TRAIL, advanced(selector(field("eventCategory", Equals=["Data"])))).data == {}


def test_an_advanced_selector_without_field_selectors_records_nothing():
    found = recording(TRAIL, advanced({"Name": "empty"}))
    assert (found.management, found.data) == (frozenset(), {})


def test_management_events_of_several_basic_selectors_add_up():
    reads, writes = ({"ReadWriteType": kind} for kind in ("ReadOnly", "WriteOnly"))
    assert recording(TRAIL, {"EventSelectors": [reads, writes]}).management == BOTH


@pytest.mark.parametrize(
    ("read_only", "access"),
    [(["true"], {READ}), (["false"], {WRITE}), (["true", "false"], BOTH)],
)
def test_advanced_selectors_are_read_by_read_only(read_only, access):
    reads = selector(
        field("eventCategory", Equals=["Management"]), field("readOnly", Equals=read_only)
    )
    assert recording(TRAIL, advanced(reads)).management == access


def test_an_org_trail_leaving_out_only_accepted_buckets_covers_all_s3_events():
    legacy = recording(
        TRAIL,
        {
            "EventSelectors": [
                {
                    "ReadWriteType": "All",
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
                }
            ]
        },
    )
    org = recording(ORG, advanced(MANAGEMENT, ALL_S3_BUT_LOGS))
    assert missing(legacy, org, accepted_exclusions=(LOG_BUCKET,)) == []
    assert missing(legacy, org) == ["read and write AWS::S3::Object data events"]


def test_a_legacy_bucket_the_org_trail_leaves_out_is_missing_even_when_accepted():
    legacy = recording(
        TRAIL,
        advanced(
            MANAGEMENT,
            selector(
                field("eventCategory", Equals=["Data"]),
                field("resources.type", Equals=["AWS::S3::Object"]),
                field("resources.ARN", StartsWith=[LOG_BUCKET]),
            ),
        ),
    )
    org = recording(ORG, advanced(MANAGEMENT, ALL_S3_BUT_LOGS))
    assert missing(legacy, org, (LOG_BUCKET,)) == [
        f"read and write AWS::S3::Object data events under {LOG_BUCKET}"
    ]


def test_org_trail_fields_this_tool_cannot_read_are_never_assumed_to_cover():
    narrowed = selector(
        field("eventCategory", Equals=["Management"]),
        field("eventSource", NotEquals=["kms.amazonaws.com"]),
    )
    org = recording(ORG, advanced(narrowed))
    legacy = recording(TRAIL, {})
    (gap,) = missing(legacy, org)
    assert gap == "the organization trail's selector 's' narrows by eventSource"
    unnamed = {key: value for key, value in narrowed.items() if key != "Name"}
    assert recording(ORG, advanced(unnamed)).not_understood == [
        "selector '' narrows by eventSource"
    ]


@pytest.mark.parametrize(
    "category",
    [None, field("eventCategory", NotEquals=["Data"])],
    ids=["without eventCategory", "eventCategory without Equals"],
)
def test_an_advanced_selector_without_categories_it_equals_records_nothing(category):
    """CloudTrail takes eventCategory with Equals only: nothing else is counted on."""
    s3_objects = [field("resources.type", Equals=[S3])]
    found = recording(ORG, advanced(selector(*s3_objects, *[category] if category else [])))
    assert (found.management, found.data) == (frozenset(), {})


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


def test_a_scope_covers_what_it_names_and_nothing_it_excludes():
    logs = "arn:aws:s3:::logs/"
    named = DataScope(BOTH, starts_with=(logs,))
    assert named.covers(logs + "AWSLogs/")
    assert not named.covers("arn:aws:s3:::other/")
    assert not named.covers(None)
    excluding = DataScope(BOTH, not_starts_with=(logs,))
    assert excluding.covers("arn:aws:s3:::other/")
    assert not excluding.covers(logs + "AWSLogs/")  # inside the exclusion
    assert not excluding.covers("arn:aws:s3:::")  # the exclusion lies inside the prefix
    assert excluding.covers(None, accepted_exclusions=(logs,))
    assert DataScope(BOTH).covers("arn:aws:s3:::anything/")


def test_access_from_several_scopes_adds_up():
    reads = DataScope(frozenset({READ}))
    writes = DataScope(frozenset({WRITE}), starts_with=("arn:aws:s3:::logs/",))
    trail = Recording(
        name="t",
        arn="arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
        bucket="b",
        prefix="",
        organization=True,
        multi_region=True,
        home_region="us-east-1",
        global_events=True,
        management=BOTH,
        data={"AWS::S3::Object": [reads, writes]},
    )
    assert trail.data_access("AWS::S3::Object", "arn:aws:s3:::logs/x") == BOTH
    assert trail.data_access("AWS::S3::Object", "arn:aws:s3:::other/") == {READ}
