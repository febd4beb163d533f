"""Exemptions and enforcement levels, with the pack's policies called in process (the same
wiring as over gRPC, see test_policy_corpus): who is exempted, why it is shown, and what a
reasonless entry does."""

import dataclasses

import pytest
from orgtrail_policies import stack
from orgtrail_policies.exemptions import Exemptions

from tests.support.policy import UNKNOWN_BOOL, InProcessPack, declared
from tests.support.policy_corpus import V7, block, bucket, locked, part

PUBLIC = "s3-no-public-bucket"
BLOCK = "s3-bucket-public-access-block"
LOCK = "s3-bucket-object-lock-enabled"
# The advisory hardening rules would flag these small stacks too; they are not under test here.
QUIET = dict.fromkeys(
    (
        "s3-bucket-acls-disabled",
        "s3-bucket-default-retention",
        "s3-bucket-kms-encryption",
        "s3-bucket-versioning",
        "s3-bucket-tls-only",
    ),
    "disabled",
)


def site(name="marketing-site"):
    return bucket(V7, name, acl="public-read", objectLockEnabled=True)


def run(config, *resources):
    pack = InProcessPack()
    pack.configure({**QUIET, **config})
    return pack.verdicts(list(resources))


def exempting(policy, resource, reason="public website, approved in SEC-123"):
    return {policy: {"exemptions": [{"resource": resource, "reason": reason}]}}


def test_an_exempted_resource_is_not_flagged_and_the_report_names_it_and_why():
    verdicts = run(exempting(PUBLIC, "marketing-*"), site(), block("marketing-site"))
    assert [v.policy for v in verdicts] == ["exemptions-applied"]
    (report,) = verdicts
    assert report.level == "advisory"
    assert report.urn == site().urn
    assert report.message.endswith(
        "\nexempted from s3-no-public-bucket by 'marketing-*': public website, approved in SEC-123"
    )


def test_an_exemption_applies_only_to_what_it_matches():
    verdicts = run(exempting(PUBLIC, "marketing-*"), site("data"), block())
    assert [(v.policy, v.level) for v in verdicts] == [(PUBLIC, "mandatory")]


def test_an_exemption_without_a_reason_exempts_nothing_and_the_violation_says_so():
    verdicts = run(exempting(PUBLIC, "marketing-*", reason=" "), site(), block("marketing-site"))
    ((policy, message),) = [(v.policy, v.message) for v in verdicts]
    assert policy == PUBLIC
    assert message.endswith(
        " (exemption 'marketing-*' matches but has no reason, so it does not apply)"
    )


def test_stack_policy_exemptions_match_urn_globs_and_are_reported():
    bare = locked()
    verdicts = run(exempting(BLOCK, "urn:pulumi:dev::*::data", reason="legacy import"), bare)
    assert [(v.policy, v.urn) for v in verdicts] == [("exemptions-applied", bare.urn)]
    assert verdicts[0].message.endswith(
        "\nexempted from s3-bucket-public-access-block by 'urn:pulumi:dev::*::data': legacy import"
    )
    unexempted = run(exempting(BLOCK, "urn:pulumi:dev::*::other"), bare)
    assert [(v.policy, v.urn) for v in unexempted] == [(BLOCK, bare.urn)]


def test_a_stack_policy_reasonless_exemption_is_named_in_its_violation():
    (violation,) = run(exempting(BLOCK, "data", reason=""), locked())
    assert violation.policy == BLOCK
    assert "(exemption 'data' matches but has no reason, so it does not apply)" in violation.message


def test_an_access_log_target_is_excused_from_object_lock_and_the_report_says_why():
    target = bucket(V7, "access-logs")
    verdicts = run(
        {},
        locked(),
        block(),
        target,
        block("access-logs"),
        part("aws:s3/bucketLogging:BucketLogging", "logging", targetBucket="access-logs"),
    )
    (report,) = verdicts
    assert (report.policy, report.urn) == ("exemptions-applied", target.urn)
    assert f"exempted from {LOCK} by '(rule)': " in report.message
    assert "server access log" in report.message


@pytest.mark.parametrize("level", ["advisory", "disabled"])
def test_a_policy_runs_at_its_configured_level(level):
    verdicts = run({PUBLIC: level}, site(), block("marketing-site"))
    assert [(v.policy, v.level) for v in verdicts] == (
        [(PUBLIC, level)] if level != "disabled" else []
    )


def test_exemption_entries_without_a_resource_are_ignored_and_the_first_valid_match_wins():
    exemptions = Exemptions(
        {
            "exemptions": [
                {"reason": "no resource"},
                "not an object",
                {"resource": "data", "reason": ""},
                {"resource": "d*", "reason": "first"},
                {"resource": "data", "reason": "second"},
            ]
        }
    )
    assert [e.resource for e in exemptions.entries] == ["data", "d*", "data"]
    assert exemptions.find("data", "urn:x").reason == "first"
    assert exemptions.find("other", "urn:x") is None
    assert exemptions.unreasoned("data", "urn:x").resource == "data"
    assert exemptions.note_for("other", "urn:x") == ""
    assert Exemptions(None).entries == []


def test_a_reasonless_exemption_matched_by_urn_is_named_in_the_violation():
    (violation,) = run(
        exempting(PUBLIC, "urn:pulumi:dev::*::marketing-site", reason=""),
        site(),
        block("marketing-site"),
    )
    assert violation.message == (
        f"{violation.message.split(chr(10))[0]}\nBucket 'marketing-site' has the public canned ACL "
        "'public-read'. Use 'private' (or no ACL at all). (exemption "
        "'urn:pulumi:dev::*::marketing-site' matches but has no reason, so it does not apply)"
    )
    (stack_violation,) = run(exempting(BLOCK, "urn:pulumi:dev::*::data", reason=""), locked())
    assert stack_violation.message.endswith(
        "(exemption 'urn:pulumi:dev::*::data' matches but has no reason, so it does not apply)"
    )


# An exemption names a resource (a glob over its logical name or its whole URN): never one
# whose name or URN merely contains the text. Each of these buckets is public and unlocked.
OVERLAPPING = [
    site("marketing-site"),
    site("site-data"),
    dataclasses.replace(site("data"), urn="urn:pulumi:site::site::aws:s3/bucket:Bucket::data"),
    dataclasses.replace(
        site("logs"), urn="urn:pulumi:dev::app::pkg:index:Site$aws:s3/bucket:Bucket::logs"
    ),
]


@pytest.mark.parametrize("policy", [PUBLIC, LOCK, BLOCK])
@pytest.mark.parametrize("target", OVERLAPPING, ids=lambda r: r.urn)
def test_an_exemption_exempts_exactly_what_it_names(policy, target):
    unlocked = dataclasses.replace(target, inputs={**target.inputs, "objectLockEnabled": False})
    unlocked.outputs = unlocked.inputs
    verdicts = run(exempting(policy, "site"), unlocked)
    assert any(v.policy == policy and v.level == "mandatory" for v in verdicts), verdicts
    assert [v for v in verdicts if v.policy == "exemptions-applied"] == []
    # The same exemption by the resource's own name does apply.
    named = run(exempting(policy, unlocked.name), unlocked)
    assert not any(v.policy == policy for v in named)
    assert [v.urn for v in named if v.policy == "exemptions-applied"] == [unlocked.urn]


def test_a_locked_access_log_target_needs_no_excuse_and_an_undecided_one_is_excused():
    logging = part("aws:s3/bucketLogging:BucketLogging", "logging", targetBucket="access-logs")
    target = bucket(V7, "access-logs", objectLockEnabled=True)
    assert run({}, locked(), block(), target, block("access-logs"), logging) == []
    # Whether the target is locked is not known in the preview: it is let through as a
    # target (S3 could not deliver to it locked), and the report says so.
    flag = declared("random:index/randomShuffle:RandomShuffle", "flag", {})
    pending = dataclasses.replace(
        target,
        outputs={**target.outputs, "objectLockEnabled": UNKNOWN_BOOL},
        property_dependencies={"objectLockEnabled": [flag.urn]},
    )
    verdicts = run(
        {LOCK: "mandatory"}, locked(), block(), flag, pending, block("access-logs"), logging
    )
    assert [(v.policy, v.urn) for v in verdicts] == [("exemptions-applied", pending.urn)]


def test_a_resource_violation_names_the_resource_it_is_about():
    verdicts = run({}, site(), block("marketing-site"))
    assert [(v.policy, v.urn) for v in verdicts] == [(PUBLIC, site().urn)]


def test_a_stack_rule_that_cannot_be_run_is_a_violation_of_the_stack(monkeypatch):
    def broken(*_args):
        raise RecursionError("too deep")

    monkeypatch.setattr(stack, "bucket_findings", broken)
    verdicts = run({}, locked(), block())
    broken_rules = {v.policy for v in verdicts if "could not be judged" in v.message}
    assert {LOCK, BLOCK} <= broken_rules
    (lock,) = [v for v in verdicts if v.policy == LOCK]
    assert (lock.level, lock.urn) == ("mandatory", "")
    assert lock.message.endswith(
        "\nThe stack could not be judged (RecursionError: too deep), so it cannot be shown to "
        "comply. This is a fault in the pack or a shape it does not know: report it, with the "
        "resource's properties."
    )
