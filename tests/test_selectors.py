"""CloudTrail's selector language as `orgtrail.ops.selectors` reads it: what is recorded, what is not
read (and why), and coverage gaps shown by an event, case by case from the API reference.

The properties over the whole grammar are in test_selector_properties.py.
"""

import pytest

from orgtrail.ops.selectors import (
    DATA,
    MANAGEMENT,
    NETWORK,
    Condition,
    Selector,
    gaps,
    read_selectors,
)
from tests.support import selector_documents as documents
from tests.support.selector_documents import data, field, management, network, selector

S3, LAMBDA, TABLE = "AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:f"
LOGS = "arn:aws:s3:::central-logs/"


def advanced(*selectors):
    return read_selectors(documents.advanced(*selectors))


def basic(*selectors):
    return read_selectors({"EventSelectors": list(selectors)})


MANAGEMENT_EVENTS = management(name="s")
EVERY_S3_OBJECT = basic(
    {"IncludeManagementEvents": False, "DataResources": [{"Type": S3, "Values": ["arn:aws:s3"]}]}
)


def missing(legacy, organization, accepted=()):
    """The gaps' texts, after checking each is what it claims: legacy matches, org does not."""
    found = gaps(legacy.read, organization.read, "aws", accepted)
    for gap in found:
        for event in gap.events:
            assert any(s.matches(event) for s in legacy.read), gap
            assert not any(s.matches(event) for s in organization.read), gap
    return [gap.text for gap in found]


# --- what a trail's answer records ------------------------------------------------------


def test_a_trail_without_selectors_records_every_management_event_and_nothing_else():
    default = read_selectors({"EventSelectors": [], "AdvancedEventSelectors": []})
    assert default.read == [Selector(MANAGEMENT, where="no event selectors (CloudTrail's default)")]
    assert missing(read_selectors({}), advanced(MANAGEMENT_EVENTS)) == []
    assert missing(EVERY_S3_OBJECT, default) == ["read and write AWS::S3::Object data events"]


@pytest.mark.parametrize(
    ("read_write", "recorded"),
    # Without ReadWriteType a basic selector records both (EventSelector: "By default, the
    # value is All").
    [("All", []), ("ReadOnly", ["write"]), ("WriteOnly", ["read"]), (None, [])],
)
def test_basic_selectors_are_read_by_read_write_type(read_write, recorded):
    chosen = {"ReadWriteType": read_write} if read_write else {}
    found = basic({**chosen, "DataResources": [{"Type": S3, "Values": ["arn:aws:s3"]}]})
    everything = advanced(MANAGEMENT_EVENTS, data(S3))
    assert missing(everything, found) == [
        *(f"{access} management events" for access in recorded),
        *(f"{access} AWS::S3::Object data events" for access in recorded),
    ]


@pytest.mark.parametrize(
    ("include", "records_management"), [(True, True), (False, False), (None, True)]
)
def test_basic_selectors_record_management_events_unless_they_say_not_to(
    include, records_management
):
    chosen = {} if include is None else {"IncludeManagementEvents": include}
    found = basic(chosen)
    expected = [] if records_management else ["read and write management events"]
    assert missing(advanced(MANAGEMENT_EVENTS), found) == expected


def test_basic_exclude_management_event_sources_leaves_those_sources_out():
    without_kms = basic({"ExcludeManagementEventSources": ["kms.amazonaws.com"]})
    assert missing(read_selectors({}), without_kms) == [
        "read and write management events from kms.amazonaws.com"
    ]
    assert missing(without_kms, read_selectors({})) == []


def test_an_advanced_event_source_exclusion_leaves_that_source_out():
    without_kms = advanced(
        selector(
            field("eventCategory", Equals=["Management"]),
            field("eventSource", NotEquals=["kms.amazonaws.com", "rdsdata.amazonaws.com"]),
        )
    )
    assert missing(read_selectors({}), without_kms) == [
        "read and write management events from kms.amazonaws.com",
        "read and write management events from rdsdata.amazonaws.com",
    ]


@pytest.mark.parametrize(
    ("resource_type", "values", "gap"),
    [
        (S3, ["arn:aws:s3"], None),
        (S3, ["arn:aws:s3:::"], None),
        (S3, ["arn:aws:s3:::logs/", "arn:aws:s3"], None),  # every bucket, that one among them
        (S3, ["arn:aws:s3:::logs/"], "under arn:aws:s3:::logs/"),
        (S3, ["arn:aws:s3:::s3"], "under arn:aws:s3:::s3"),  # a bucket named s3…
        (LAMBDA, ["arn:aws:lambda"], None),
        (LAMBDA, [FUNCTION], f"on {FUNCTION}"),  # "Lambda function ARNs are exact"
        (TABLE, ["arn:aws:dynamodb"], None),
    ],
)
def test_basic_data_resources_record_every_resource_or_the_ones_named(resource_type, values, gap):
    resources = [{"Type": resource_type, "Values": values}]
    named = basic(
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False, "DataResources": resources}
    )
    every = advanced(data(resource_type, field("readOnly", Equals=["false"])))
    kind = f"write {resource_type} data events"
    if gap is None:
        assert missing(every, named) == []
    else:
        assert missing(named, every) == []
        assert missing(every, named) != []
        assert missing(named, basic({"IncludeManagementEvents": False})) == [f"{kind} {gap}"]


def test_a_lambda_function_arn_is_exact_not_a_prefix():
    one = basic({"DataResources": [{"Type": LAMBDA, "Values": [FUNCTION]}]})
    longer = basic({"DataResources": [{"Type": LAMBDA, "Values": [FUNCTION + "2"]}]})
    assert missing(longer, one) == [
        f"read and write AWS::Lambda::Function data events on {FUNCTION}2"
    ]


def test_advanced_selectors_are_read_by_read_only():
    reads = selector(
        field("eventCategory", Equals=["Management"]), field("readOnly", Equals=["true"])
    )
    writes = selector(
        field("eventCategory", Equals=["Management"]), field("readOnly", Equals=["false"])
    )
    assert missing(advanced(MANAGEMENT_EVENTS), advanced(reads)) == ["write management events"]
    assert missing(advanced(MANAGEMENT_EVENTS), advanced(reads, writes)) == []


# --- the six operators ---------------------------------------------------------------------

ALL_S3 = advanced(data(S3))


@pytest.mark.parametrize(
    ("operator", "value", "gap"),
    [
        ("Equals", "arn:aws:s3:::bucket/", "(resources.ARN other than arn:aws:s3:::bucket/)"),
        ("StartsWith", "arn:aws:s3:::bucket/", "(resources.ARN other than arn:aws:s3:::bucket/…)"),
        ("EndsWith", ".json.gz", "(resources.ARN other than ….json.gz)"),
        ("NotEquals", "arn:aws:s3:::bucket/key", "on arn:aws:s3:::bucket/key"),
        ("NotStartsWith", "arn:aws:s3:::bucket/", "under arn:aws:s3:::bucket/"),
        ("NotEndsWith", ".json.gz", "(resources.ARN arn:aws:s3:::….json.gz)"),
    ],
)
def test_every_operator_narrows_the_organization_trail_as_aws_defines_it(operator, value, gap):
    narrowed = advanced(data(S3, field("resources.ARN", **{operator: [value]})))
    assert missing(ALL_S3, narrowed) == [f"read and write AWS::S3::Object data events {gap}"]


def test_equals_is_an_exact_match_not_a_prefix():
    bucket = advanced(data(S3, field("resources.ARN", Equals=["arn:aws:s3:::bucket/"])))
    everything_in_it = basic(
        {
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::bucket/"]}],
        }
    )
    assert missing(everything_in_it, bucket) == [
        "read and write AWS::S3::Object data events under arn:aws:s3:::bucket/ "
        "(resources.ARN other than arn:aws:s3:::bucket/)"
    ]


def test_a_value_that_only_ends_like_one_recorded_is_not_covered():
    ending = advanced(data(S3, field("eventName", EndsWith=["Object"])))
    exactly = advanced(data(S3, field("eventName", Equals=["Object"])))
    assert missing(ending, exactly) == [
        "read and write AWS::S3::Object data events (eventName …Object)"
    ]


def test_an_event_name_narrowing_is_not_every_event():
    get_object = advanced(data(S3, field("eventName", Equals=["GetObject"])))
    assert missing(ALL_S3, get_object) == [
        "read and write AWS::S3::Object data events (eventName other than GetObject)"
    ]


def test_a_lambda_selector_excluding_one_function_misses_it():
    all_but_f = advanced(data(LAMBDA, field("resources.ARN", NotEquals=[FUNCTION])))
    assert missing(advanced(data(LAMBDA)), all_but_f) == [
        f"read and write AWS::Lambda::Function data events on {FUNCTION}"
    ]


def test_each_value_a_legacy_condition_includes_is_judged_whatever_its_operator():
    # A condition with several including values is split into one part per value so that each
    # gap is named; no value of any operator may be lost in the split.
    b_and_c = advanced(
        data(S3, field("resources.ARN", StartsWith=["arn:aws:s3:::b/", "arn:aws:s3:::c/"]))
    )
    mixed = [
        {"Equals": ["arn:aws:s3:::a/k"], "StartsWith": ["arn:aws:s3:::b/", "arn:aws:s3:::c/"]},
        {"StartsWith": ["arn:aws:s3:::b/"], "EndsWith": [".gz", ".json"]},
    ]
    for operators in mixed:
        legacy = advanced(data(S3, field("resources.ARN", **operators)))
        assert missing(legacy, b_and_c), operators
    assert missing(advanced(data(S3, field("resources.ARN", **mixed[0]))), b_and_c) == [
        "read and write AWS::S3::Object data events on arn:aws:s3:::a/k"
    ]


def test_a_gap_names_only_what_the_organization_selectors_of_its_kind_compare():
    # The Lambda selector's ARN suffix has nothing to do with the missed S3 writes.
    reads = data(S3, field("readOnly", Equals=["true"]))
    prod = data(LAMBDA, field("resources.ARN", EndsWith=[":prod"]))
    assert missing(ALL_S3, advanced(reads, prod)) == ["write AWS::S3::Object data events"]
    # Every value the organization compares the missed one with is named, in one list.
    me = "arn:aws:iam::111111111111:role/me"
    named = advanced(
        data(S3, field("eventName", Equals=["GetObject"]), field("userIdentity.arn", Equals=[me]))
    )
    assert missing(ALL_S3, named) == [
        "read and write AWS::S3::Object data events "
        f"(eventName other than GetObject, userIdentity.arn other than {me})",
        "read and write AWS::S3::Object data events "
        "(eventName other than GetObject, without userIdentity.arn)",
    ]


def test_a_prefix_of_every_arn_of_the_type_is_every_resource():
    # Every S3 object ARN starts with arn:aws:s3::: (AdvancedFieldSelector resources.ARN).
    all_objects = advanced(data(S3, field("resources.ARN", StartsWith=["arn:aws:s3:::"])))
    assert missing(ALL_S3, all_objects) == []
    assert missing(EVERY_S3_OBJECT, all_objects) == []


def test_optional_fields_an_event_lacks_match_only_exclusions():
    console = advanced(data(S3, field("sessionCredentialFromConsole", Equals=["true"])))
    not_console = advanced(data(S3, field("sessionCredentialFromConsole", NotEquals=["true"])))
    assert missing(ALL_S3, console) == [
        "read and write AWS::S3::Object data events (sessionCredentialFromConsole false)",
        "read and write AWS::S3::Object data events (without sessionCredentialFromConsole)",
    ]
    assert missing(ALL_S3, not_console) == [
        "read and write AWS::S3::Object data events (sessionCredentialFromConsole true)"
    ]


# --- network activity events ---------------------------------------------------------------


def test_network_activity_events_are_a_category_of_their_own():
    vpc_endpoints = advanced(network("ec2.amazonaws.com"))
    everything_else = advanced(MANAGEMENT_EVENTS, data(S3), data(LAMBDA))
    assert missing(vpc_endpoints, everything_else) == [
        "network activity events from ec2.amazonaws.com"
    ]
    assert missing(vpc_endpoints, advanced(network("kms.amazonaws.com"))) == [
        "network activity events from ec2.amazonaws.com"
    ]
    assert missing(vpc_endpoints, advanced(network("ec2.amazonaws.com"))) == []


def test_network_activity_narrowed_by_error_code_or_endpoint_misses_the_rest():
    denied = advanced(network("ec2.amazonaws.com", field("errorCode", Equals=["VpceAccessDenied"])))
    assert missing(advanced(network("ec2.amazonaws.com")), denied) == [
        "network activity events from ec2.amazonaws.com (errorCode other than VpceAccessDenied)",
        "network activity events from ec2.amazonaws.com (without errorCode)",
    ]


# --- what is not read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (
            selector(
                field("eventCategory", Equals=["Management"]),
                field("eventSource", StartsWith=["kms"]),
            ),
            "advanced selector 's': eventSource StartsWith is not a form CloudTrail takes for "
            "Management selectors (only NotEquals)",
        ),
        (
            selector(
                field("eventCategory", Equals=["Management"]), field("eventName", Equals=["x"])
            ),
            "advanced selector 's': eventName is not a field of Management selectors on trails",
        ),
        (
            data(S3, field("resources.ARN", Matches=["x"])),
            "advanced selector 'data': resources.ARN with Matches, an operator not modelled",
        ),
        (
            selector(
                field("eventCategory", NotEquals=["Data"]), field("resources.type", Equals=[S3])
            ),
            "advanced selector 's': eventCategory NotEquals [] is not Equals one of Management, "
            "Data, NetworkActivity",
        ),
        (
            selector(field("eventCategory", Equals=["Insight"])),
            "advanced selector 's': eventCategory Equals ['Insight'] is not Equals one of "
            "Management, Data, NetworkActivity",
        ),
        (
            selector(field("resources.type", Equals=[S3])),
            "advanced selector 's': it has no eventCategory, which CloudTrail requires",
        ),
        (
            selector(field("eventCategory", Equals=["Data"])),
            "advanced selector 's': a Data selector without resources.type, which CloudTrail "
            "requires",
        ),
        (
            selector(field("eventCategory", Equals=["NetworkActivity"])),
            "advanced selector 's': a NetworkActivity selector without eventSource, which "
            "CloudTrail requires",
        ),
        (
            data(S3, field("eventName", Equals=["a"]), field("eventName", Equals=["b"])),
            "advanced selector 'data': eventName appears twice, which is not modelled",
        ),
        (
            data(S3, field("readOnly", Equals=["yes"])),
            "advanced selector 'data': readOnly ['yes'] is not true or false",
        ),
        (
            data(S3, field("eventName", Equals=[])),
            "advanced selector 'data': eventName Equals is [], not a list of strings",
        ),
        ({"Name": "s"}, "advanced selector 's': it has no field selectors"),
        (
            {
                "Name": "s",
                "FieldSelectors": [field("eventCategory", Equals=["Management"])],
                "Exclude": True,
            },
            "advanced selector 's': Exclude is not modelled",
        ),
    ],
)
def test_an_advanced_selector_this_tool_cannot_read_is_named_and_records_nothing(answer, why):
    found = advanced(answer, MANAGEMENT_EVENTS)
    assert found.unreadable == [why]
    assert found.read == [advanced(MANAGEMENT_EVENTS).read[0]]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"ReadWriteType": "Some"}, "event selector 1: ReadWriteType 'Some' is not All, ReadOnly or WriteOnly"),
        ({"IncludeManagementEventSources": ["kms.amazonaws.com"]}, "event selector 1: IncludeManagementEventSources is not modelled"),
        ({"IncludeManagementEvents": "yes"}, "event selector 1: IncludeManagementEvents 'yes' is not true or false"),
        ({"DataResources": [{"Type": S3}]}, "event selector 1: the Values of DataResources AWS::S3::Object is None, not a list of strings"),
        ({"DataResources": [{"Type": S3, "Values": []}]}, "event selector 1: the Values of DataResources AWS::S3::Object is [], not a list of strings"),
        ({"DataResources": [{"Type": "AWS::EC2::Snapshot", "Values": ["arn:aws:ec2"]}]}, "event selector 1: DataResources Type 'AWS::EC2::Snapshot' is not one basic selectors take (AWS::S3::Object, AWS::Lambda::Function, AWS::DynamoDB::Table)"),
        ({"DataResources": [{"Type": LAMBDA, "Values": ["arn:aws:lambda:us-east-1:1:function"]}]}, "event selector 1: DataResources AWS::Lambda::Function values ['arn:aws:lambda:us-east-1:1:function']: only arn:<partition>:lambda or a whole function ARN are modelled"),
        ({"DataResources": [{"Type": TABLE, "Values": ["arn:aws:dynamodb:us-east-1:1:table/t"]}]}, "event selector 1: DataResources AWS::DynamoDB::Table values ['arn:aws:dynamodb:us-east-1:1:table/t']: only arn:<partition>:dynamodb are modelled"),
        ({"DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::a/", "arn:aws-cn:s3"]}]}, "event selector 1: DataResources AWS::S3::Object values ['arn:aws-cn:s3'] are not ARNs of the trail's partition (aws), which is not modelled"),
    ],
)  # fmt: skip
def test_a_basic_selector_this_tool_cannot_read_is_named_and_records_nothing(answer, why):
    found = basic(answer)
    assert (found.read, found.unreadable) == ([], [why])


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"EventSelectors": [{}], "AdvancedEventSelectors": [MANAGEMENT_EVENTS]},
         "the trail has both basic and advanced event selectors, which CloudTrail refuses"),
        ({"AdvancedEventSelectors": [MANAGEMENT_EVENTS], "Exclusions": []},
         "the event selectors have Exclusions, not modelled"),
        ([], "the event selectors are not an object"),
        ({"EventSelectors": {"ReadWriteType": "All"}}, "the event selectors are not lists"),
    ],
)  # fmt: skip
def test_an_answer_this_tool_cannot_read_records_nothing_at_all(answer, why):
    found = read_selectors(answer)
    assert (found.read, found.unreadable) == ([], [why])


# --- gaps ------------------------------------------------------------------------------------


def test_each_named_prefix_the_organization_misses_is_its_own_gap():
    three = basic(
        {"DataResources": [{"Type": S3, "Values": [f"arn:aws:s3:::{b}/" for b in "abc"]}]}
    )
    only_b = basic({"DataResources": [{"Type": S3, "Values": ["arn:aws:s3:::b/"]}]})
    assert missing(three, only_b) == [
        "read and write AWS::S3::Object data events under arn:aws:s3:::a/",
        "read and write AWS::S3::Object data events under arn:aws:s3:::c/",
    ]


def test_accepted_exclusions_count_only_against_every_bucket():
    all_but_logs = advanced(data(S3, field("resources.ARN", NotStartsWith=[LOGS])))
    assert missing(EVERY_S3_OBJECT, all_but_logs, (LOGS,)) == []
    assert missing(EVERY_S3_OBJECT, all_but_logs) == [
        f"read and write AWS::S3::Object data events under {LOGS}"
    ]
    # A legacy selector that names no ARN at all records the log bucket's objects too.
    assert missing(advanced(data(S3)), all_but_logs, (LOGS,)) == []
    assert missing(advanced(data(S3)), all_but_logs) == [
        f"read and write AWS::S3::Object data events under {LOGS}"
    ]
    # A legacy trail that asks for the log bucket's objects still needs them.
    logs_only = basic(
        {"IncludeManagementEvents": False, "DataResources": [{"Type": S3, "Values": [LOGS]}]}
    )
    assert missing(logs_only, all_but_logs, (LOGS,)) == [
        f"read and write AWS::S3::Object data events under {LOGS}"
    ]


def test_reads_of_the_log_bucket_cover_a_legacy_trail_reading_it():
    log_reads = data(
        S3, field("readOnly", Equals=["true"]), field("resources.ARN", StartsWith=[LOGS])
    )
    all_but_logs = data(S3, field("resources.ARN", NotStartsWith=[LOGS]))
    org = advanced(all_but_logs, log_reads)
    assert missing(EVERY_S3_OBJECT, org) == [f"write AWS::S3::Object data events under {LOGS}"]
    assert missing(EVERY_S3_OBJECT, org, (LOGS,)) == []


def test_gaps_are_shown_by_events_of_the_kind_they_name():
    (gap,) = gaps(EVERY_S3_OBJECT.read, read_selectors({}).read)
    assert [(e["readOnly"], e["resources.type"]) for e in gap.events] == [
        ("true", S3),
        ("false", S3),
    ]
    assert all(e["resources.ARN"].startswith("arn:aws:s3:::") for e in gap.events)


def test_a_selector_built_by_hand_reads_like_one_read_from_aws():
    by_hand = [Selector(DATA, (Condition("resources.type", equals=frozenset({S3})),))]
    assert gaps(by_hand, ALL_S3.read) == []
    assert gaps(
        [Selector(NETWORK, (Condition("eventSource", equals=frozenset({"kms.amazonaws.com"})),))],
        ALL_S3.read,
    )


def test_basic_values_are_read_in_the_trails_own_partition():
    gov = {"DataResources": [{"Type": S3, "Values": ["arn:aws-us-gov:s3"]}]}
    found = read_selectors({"EventSelectors": [gov]}, "aws-us-gov")
    assert found.unreadable == []
    every_object = read_selectors({"AdvancedEventSelectors": [data(S3)]}, "aws-us-gov")
    assert gaps(every_object.read, found.read, "aws-us-gov") == []
