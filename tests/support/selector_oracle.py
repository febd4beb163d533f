"""Does a trail record this one event? CloudTrail's selectors read as literally as possible.

Written from the CloudTrail API reference (EventSelector, DataResource, AdvancedEventSelector,
AdvancedFieldSelector) alone and sharing no code with `orgtrail.ops.selectors`, whose coverage
proofs the property-based tests check against it: the clever code searches every event at
once, this looks at one.

An event is a dict of CloudTrail record fields as the selectors name them (`eventCategory`,
`eventSource`, `readOnly` as "true"/"false", `resources.type`, `resources.ARN`, ...); a field
the event lacks is missing or None.
"""

from __future__ import annotations


def records(answer: dict, event: dict) -> bool:
    """Whether a trail with this GetEventSelectors answer records `event`."""
    basic = answer.get("EventSelectors") or []
    advanced = answer.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        # "trails created without specific event selectors will be configured to log all
        # read and write management events, and no data events"
        return event["eventCategory"] == "Management"
    # "if the event matches any event selector, the trail processes and logs the event"
    return any(basic_records(s, event) for s in basic) or any(
        advanced_records(s, event) for s in advanced
    )


def basic_records(selector: dict, event: dict) -> bool:
    kind = selector.get("ReadWriteType", "All")
    if kind == "ReadOnly" and event.get("readOnly") != "true":
        return False
    if kind == "WriteOnly" and event.get("readOnly") != "false":
        return False
    if event["eventCategory"] == "Management":
        if not selector.get("IncludeManagementEvents", True):
            return False
        return event.get("eventSource") not in selector.get("ExcludeManagementEventSources", [])
    if event["eventCategory"] != "Data":
        return False
    arn = event["resources.ARN"]
    for resource in selector.get("DataResources", []):
        if resource["Type"] != event["resources.type"]:
            continue
        for value in resource["Values"]:
            if resource["Type"] == "AWS::S3::Object":
                # "specify the prefix as arn:aws:s3" / "the S3 bucket and object prefix"
                if arn.startswith(value):
                    return True
            elif value.count(":") == 2:
                # "specify the prefix as arn:aws:lambda" (or arn:aws:dynamodb): every one
                if arn.startswith(value + ":"):
                    return True
            elif arn == value:  # "Lambda function ARNs are exact"
                return True
    return False


def advanced_records(selector: dict, event: dict) -> bool:
    """Every field selector of the selector holds for the event."""
    return all(field_holds(f, event.get(f["Field"])) for f in selector["FieldSelectors"])


def field_holds(field_selector: dict, value: str | None) -> bool:
    equals = field_selector.get("Equals", [])
    starts = field_selector.get("StartsWith", [])
    ends = field_selector.get("EndsWith", [])
    if value is None:
        # A field the event lacks matches no value, so only a selector that excludes passes.
        return not (equals or starts or ends)
    if equals or starts or ends:
        included = (
            value in equals
            or any(value.startswith(s) for s in starts)
            or any(value.endswith(e) for e in ends)
        )
        if not included:
            return False
    excluded = (
        value in field_selector.get("NotEquals", [])
        or any(value.startswith(s) for s in field_selector.get("NotStartsWith", []))
        or any(value.endswith(e) for e in field_selector.get("NotEndsWith", []))
    )
    return not excluded
