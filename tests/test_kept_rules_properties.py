"""Property: every rule a legacy bucket has, in any combination of the CloudFormation fields
`AWS::S3::Bucket Rule` defines, comes back from the conversion unchanged, read back by a
separate, deliberately plain inverse written from the same reference (CloudFormation's
`Rule` and the provider's `BucketLifecycleConfigurationRule` arguments)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from components.kept_rules import kept_rules

DAYS = st.integers(min_value=1, max_value=3650)
CLASSES = st.sampled_from(["STANDARD_IA", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"])
TEXT = st.text(alphabet="abcxyz-/0", min_size=1, max_size=8)


@st.composite
def rules(draw) -> dict:
    rule: dict = {
        "Id": draw(TEXT.filter(lambda t: not t.startswith("org-trail"))),
        "Status": draw(st.sampled_from(["Enabled", "Disabled"])),
    }
    optional = {
        "Prefix": TEXT,
        "TagFilters": st.lists(
            st.fixed_dictionaries({"Key": TEXT, "Value": TEXT}),
            min_size=1,
            max_size=3,
            unique_by=lambda t: t["Key"],
        ),
        "ObjectSizeGreaterThan": st.integers(0, 10**9).map(str),
        "ObjectSizeLessThan": st.integers(1, 10**9),
        "Transitions": st.lists(
            st.fixed_dictionaries({"StorageClass": CLASSES, "TransitionInDays": DAYS}),
            min_size=1,
            max_size=2,
        ),
        "Transition": st.fixed_dictionaries({"StorageClass": CLASSES, "TransitionInDays": DAYS}),
        "ExpirationInDays": DAYS,
        "ExpiredObjectDeleteMarker": st.booleans(),
        "NoncurrentVersionTransitions": st.lists(
            st.fixed_dictionaries({"StorageClass": CLASSES, "TransitionInDays": DAYS}),
            min_size=1,
            max_size=2,
        ),
        "NoncurrentVersionExpiration": st.fixed_dictionaries(
            {"NoncurrentDays": DAYS}, optional={"NewerNoncurrentVersions": st.integers(1, 100)}
        ),
        "NoncurrentVersionExpirationInDays": DAYS,
        "AbortIncompleteMultipartUpload": st.fixed_dictionaries({"DaysAfterInitiation": DAYS}),
    }
    for field in draw(st.sets(st.sampled_from(sorted(optional)))):
        rule[field] = draw(optional[field])
    if "NoncurrentVersionExpiration" in rule:
        rule.pop("NoncurrentVersionExpirationInDays", None)  # CloudFormation: one or the other
    return rule


def normal(rule: dict) -> dict:
    """The input as one reading of it: singular forms folded into the plural ones, numbers as
    numbers, tags as a mapping, the empty prefix of a rule without any filter made explicit."""
    out = {"Id": rule["Id"], "Status": rule["Status"]}
    transitions = [
        *rule.get("Transitions", []),
        *([rule["Transition"]] if "Transition" in rule else []),
    ]
    if transitions:
        out["Transitions"] = [(t["StorageClass"], t["TransitionInDays"]) for t in transitions]
    if "NoncurrentVersionTransitions" in rule:
        out["NoncurrentVersionTransitions"] = [
            (t["StorageClass"], t["TransitionInDays"]) for t in rule["NoncurrentVersionTransitions"]
        ]
    expiry = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule
        else None
    )
    if expiry:
        out["NoncurrentVersionExpiration"] = (
            expiry["NoncurrentDays"],
            expiry.get("NewerNoncurrentVersions"),
        )
    for field in ("ExpirationInDays", "ExpiredObjectDeleteMarker"):
        if field in rule:
            out[field] = rule[field]
    if "AbortIncompleteMultipartUpload" in rule:
        out["Abort"] = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
    filters = {
        "Prefix": rule.get("Prefix"),
        "Tags": {t["Key"]: t["Value"] for t in rule.get("TagFilters", [])} or None,
        "Larger": int(rule["ObjectSizeGreaterThan"]) if "ObjectSizeGreaterThan" in rule else None,
        "Smaller": rule.get("ObjectSizeLessThan"),
    }
    filters = {k: v for k, v in filters.items() if v is not None}
    out["Filter"] = filters or {"Prefix": ""}
    return out


def read_back(args) -> dict:
    """The provider's rule arguments read as CloudFormation would have written them."""
    out = {"Id": args.id, "Status": args.status}
    if args.transitions:
        out["Transitions"] = [(t.storage_class, t.days) for t in args.transitions]
    if args.noncurrent_version_transitions:
        out["NoncurrentVersionTransitions"] = [
            (t.storage_class, t.noncurrent_days) for t in args.noncurrent_version_transitions
        ]
    if args.noncurrent_version_expiration:
        e = args.noncurrent_version_expiration
        out["NoncurrentVersionExpiration"] = (e.noncurrent_days, e.newer_noncurrent_versions)
    if args.expiration:
        if args.expiration.days is not None:
            out["ExpirationInDays"] = args.expiration.days
        if args.expiration.expired_object_delete_marker is not None:
            out["ExpiredObjectDeleteMarker"] = args.expiration.expired_object_delete_marker
    if args.abort_incomplete_multipart_upload:
        out["Abort"] = args.abort_incomplete_multipart_upload.days_after_initiation
    f = args.filter
    if f.and_ is not None:
        a = f.and_
        found = {
            "Prefix": a.prefix,
            "Tags": a.tags,
            "Larger": a.object_size_greater_than,
            "Smaller": a.object_size_less_than,
        }
        assert (
            sum(v is not None for v in found.values()) + len(a.tags or {}) - (a.tags is not None)
            >= 2
        ), "and with one condition"
    elif f.tag is not None:
        found = {"Tags": {f.tag.key: f.tag.value}}
    else:
        found = {
            "Prefix": f.prefix,
            "Larger": f.object_size_greater_than,
            "Smaller": f.object_size_less_than,
        }
    out["Filter"] = {k: v for k, v in found.items() if v is not None}
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(rules(), min_size=1, max_size=4, unique_by=lambda r: r["Id"]))
def test_every_rule_comes_back_unchanged(theirs):
    import json

    kept = kept_rules("b", json.dumps({"LifecycleConfiguration": {"Rules": theirs}}), 1)
    assert kept.problems == []
    assert [read_back(args) for args in kept.rules] == [normal(rule) for rule in theirs]
