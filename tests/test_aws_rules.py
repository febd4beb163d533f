"""The AWS API rules the plan enforces: each one catching a bad input, the real stacks passing."""

import copy
import json
from dataclasses import replace

import pytest

import components.private_bucket
from orgtrail.__main__ import main
from orgtrail.offline.aws_rules import (
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    LIFECYCLE,
    LOGGING,
    METRIC_FILTER,
    ROLE_POLICY,
    TRAIL,
    refusals,
)
from tests.support.stacks import (
    ACCESS_LOG_BUCKET,
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    SECURITY_ACCOUNT,
    management_config,
    run_management,
    run_security,
    security_config,
)


def messages(resources, account=SECURITY_ACCOUNT) -> list[str]:
    return [refusal.message for refusal in refusals(resources, account)]


def changed(simulation, type_token, edit, bucket=None):
    """The simulation's resources with one resource of `type_token` edited (on a copy)."""
    resources = []
    done = False
    for resource in simulation.resources:
        if (
            not done
            and resource.type == type_token
            and bucket in (None, resource.inputs.get("bucket"))
        ):
            inputs = copy.deepcopy(resource.inputs)
            edit(inputs)
            resource = replace(resource, inputs=inputs)
            done = True
        resources.append(resource)
    assert done, type_token
    return resources


def test_both_stacks_pass_every_rule(security, management):
    assert messages(security.resources) == []
    assert messages(management.resources, MANAGEMENT_ACCOUNT) == []


def test_stacks_that_expire_logs_and_archive_legacy_buckets_pass_too():
    archive = {"archiveAfterDays": 30, "storageClass": "GLACIER", "expireAfterDays": 2557}
    security = run_security(security_config(lifecycle={"expireAfterDays": 2557}))
    legacy = [
        {
            "accountId": "333333333333",
            "region": "eu-west-1",
            "trailName": "old",
            "bucket": "old-logs",
        }
    ]
    management = run_management(
        management_config(legacyTrails=legacy, legacyArchive=archive), security.exports
    )
    assert messages(security.resources) == []
    assert messages(management.resources, MANAGEMENT_ACCOUNT) == []


# --- lifecycle ------------------------------------------------------------------------


def test_noncurrent_expiration_before_the_noncurrent_transition_is_refused(security):
    def the_first_release(inputs):
        rule = inputs["rules"][0]
        rule["noncurrentVersionTransitions"] = [{"noncurrentDays": 90, "storageClass": "GLACIER"}]
        rule["noncurrentVersionExpiration"] = {"noncurrentDays": 1}

    (message,) = messages(changed(security, LIFECYCLE, the_first_release, LOG_BUCKET))
    assert (
        "'NoncurrentDays' in the NoncurrentVersionExpiration action (1) must be greater" in message
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda i: i["rules"][0].update(expiration={"days": 90}),
            "'Days' in the Expiration action (90) must be greater than 'Days' in the Transition",
        ),
        (
            lambda i: i["rules"][0].update(
                transitions=[{"days": 10, "storageClass": "STANDARD_IA"}]
            ),
            "at least 30 days",
        ),
        (lambda i: i["rules"].append(dict(i["rules"][0])), "used twice"),
        (lambda i: i["rules"].extend([{"id": f"r{n}"} for n in range(1000)]), "at most 1000"),
        (lambda i: i.update(transitionDefaultMinimumObjectSize="tiny"), "is not one of"),
    ],
)
def test_lifecycle_rules_s3_rejects_are_refused(security, edit, expected):
    found = messages(changed(security, LIFECYCLE, edit, LOG_BUCKET))
    assert any(expected in message for message in found), found


# --- server access logs ---------------------------------------------------------------


def test_a_locked_access_log_target_is_refused_since_delivery_would_never_happen(security):
    resources = changed(
        security, BUCKET, lambda i: i.update(objectLockEnabled=True), ACCESS_LOG_BUCKET
    )
    found = messages(resources)
    assert any("has Object Lock: S3 never delivers" in m for m in found), found


def test_a_kms_encrypted_access_log_target_is_refused(security):
    def kms(inputs):
        inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "aws:kms"}

    found = messages(changed(security, ENCRYPTION, kms, ACCESS_LOG_BUCKET))
    assert any("SSE-S3 (AES256) only" in m for m in found), found


def test_an_access_log_target_whose_policy_refuses_the_delivery_is_refused(security):
    def only_tls_deny(inputs):
        policy = json.loads(inputs["policy"])
        policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        inputs["policy"] = json.dumps(policy)

    found = messages(changed(security, BUCKET_POLICY, only_tls_deny, ACCESS_LOG_BUCKET))
    assert len([m for m in found if "does not let logging.s3.amazonaws.com" in m]) == 2, found


def test_a_delivery_from_another_account_is_refused(security):
    found = messages(security.resources, account=MANAGEMENT_ACCOUNT)
    assert any("does not let logging.s3.amazonaws.com" in m for m in found), found


def test_a_bucket_logging_to_itself_is_refused(security):
    found = messages(changed(security, LOGGING, lambda i: i.update(targetBucket=i["bucket"])))
    assert any("logs to itself" in m for m in found), found


# --- sizes ----------------------------------------------------------------------------


def test_a_bucket_policy_over_20_kb_is_refused(security):
    def grow(inputs):
        policy = json.loads(inputs["policy"])
        policy["Statement"] *= 40
        inputs["policy"] = json.dumps(policy)

    found = messages(changed(security, BUCKET_POLICY, grow, LOG_BUCKET))
    assert any("over the limit of 20480" in m and "bucket policies" in m for m in found), found


def test_inline_role_policies_are_counted_without_white_space(management):
    def pad(inputs):
        inputs["policy"] = json.dumps(json.loads(inputs["policy"]), indent=400)

    assert messages(changed(management, ROLE_POLICY, pad), MANAGEMENT_ACCOUNT) == []

    def grow(inputs):
        policy = json.loads(inputs["policy"])
        policy["Statement"][0]["Resource"] *= 80
        inputs["policy"] = json.dumps(policy)

    found = messages(changed(management, ROLE_POLICY, grow), MANAGEMENT_ACCOUNT)
    assert any("10240" in m for m in found), found


# --- CloudTrail and CloudWatch ----------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda i: i["advancedEventSelectors"][1]["fieldSelectors"][2].update(
                notStartsWiths=[f"arn:aws:s3:::b{n}/" for n in range(500)]
            ),
            "CloudTrail allows 500",
        ),
        (
            lambda i: i["advancedEventSelectors"][0]["fieldSelectors"].append(
                {"field": "bucketName", "equals": ["x"]}
            ),
            "not a field CloudTrail selects on",
        ),
        (
            lambda i: i["advancedEventSelectors"][0]["fieldSelectors"][0].update(
                equals=None, notEquals=["Data"]
            ),
            "eventCategory takes Equals only",
        ),
        (
            lambda i: i["advancedEventSelectors"][0]["fieldSelectors"].append(
                {"field": "readOnly"}
            ),
            "needs at least one operator",
        ),
        (
            lambda i: i["advancedEventSelectors"][0]["fieldSelectors"].append(
                {"field": "readOnly", "equals": ["true"]}
            ),
            "no selector logs write management events",
        ),
    ],
)
def test_selectors_cloudtrail_rejects_are_refused(management, edit, expected):
    found = messages(changed(management, TRAIL, edit), MANAGEMENT_ACCOUNT)
    assert any(expected in m for m in found), found


def test_metric_filter_patterns_over_1024_characters_are_refused(management):
    found = messages(
        changed(management, METRIC_FILTER, lambda i: i.update(pattern="{ " + "x" * 1100 + " }")),
        MANAGEMENT_ACCOUNT,
    )
    assert any("CloudWatch Logs allows 1,024" in m for m in found), found


def test_every_cis_metric_filter_fits_cloudwatch(management):
    patterns = [r.inputs["pattern"] for r in management.of_type(METRIC_FILTER)]
    assert len(patterns) == 15
    assert max(len(p) for p in patterns) <= 1024


# --- through the plan ------------------------------------------------------------------


def test_the_plan_refuses_a_regression_aws_would_reject(monkeypatch, capsys):
    archive_rule = components.private_bucket.archive_rule

    def first_release(rule_id, archive, prefix=""):
        rule = archive_rule(rule_id, archive, prefix)
        rule.noncurrent_version_expiration = {"noncurrent_days": 1}
        rule.noncurrent_version_transitions = [
            {"noncurrent_days": archive.archive_after_days, "storage_class": archive.storage_class}
        ]
        return rule

    monkeypatch.setattr(components.private_bucket, "archive_rule", first_release)
    assert main(["plan", "--stack", "security", "--no-policy"]) == 2
    out = capsys.readouterr().err
    assert "AWS would refuse" in out
    assert "NoncurrentVersionExpiration" in out


def member_roles_stack(operators: list[str]):
    config = management_config(
        memberRoles={"operatorPrincipalArns": operators, "previewPrincipalArns": operators[:1]},
        memberPreviewRoleName="OrgTrailPreview",
    )
    return run_management(config)


def test_the_member_roles_template_passes_with_a_few_principals():
    operators = [f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/operator-{i}" for i in range(5)]
    assert messages(member_roles_stack(operators).resources, MANAGEMENT_ACCOUNT) == []


def test_a_member_role_trust_over_iams_limit_is_refused_before_any_account_fails():
    """CreateRole refuses a trust policy over 2,048 characters in each account the StackSet
    reaches; the plan refuses the template first, naming the role."""
    operators = [
        f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/organisation-operator-number-{i}"
        for i in range(40)
    ]
    found = messages(member_roles_stack(operators).resources, MANAGEMENT_ACCOUNT)
    assert any(
        m.startswith("OperatorRole's AssumeRolePolicyDocument is ")
        and "over the limit of 2048" in m
        for m in found
    ), found


def test_a_template_body_over_cloudformations_limit_is_refused(management):
    (stack_set,) = member_roles_stack([f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/operator"]).of_type(
        "aws:cloudformation/stackSet:StackSet"
    )
    body = json.loads(stack_set.inputs["templateBody"])
    body["Description"] = "x" * 52_000
    big = replace(stack_set, inputs={**stack_set.inputs, "templateBody": json.dumps(body)})
    (message,) = messages([big], MANAGEMENT_ACCOUNT)
    assert message.startswith("templateBody is ") and "51200" in message
