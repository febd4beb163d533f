"""`verify`'s alert path, against moto's organisation seeded with the management stack's alert
path: every check passes on it, and each fails, named, when exactly its property breaks."""

import json
import re
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orgtrail.contract.policy_documents import (
    ALARM_TOPIC,
    NOTIFIER,
    alarm_topic_key_policy,
    notifier_policy,
)
from orgtrail.ops.alert_path import ENCRYPTION, POLICY, SUBSCRIPTIONS, check_alert_path
from orgtrail.ops.aws import current_account
from orgtrail.ops.verify import Checks
from tests.support.moto_org import MANAGEMENT, TRAIL_NAME
from tests.test_verify_checks import alert_path

TOPIC = f"arn:aws:sns:us-east-1:{MANAGEMENT}:{ALARM_TOPIC}"
GROUP = f"/aws/cloudtrail/{TRAIL_NAME}"
ROLE = f"arn:aws:iam::{MANAGEMENT}:role/{NOTIFIER}"


def judged(org, insights_told: bool = True) -> dict:
    """The alert path's checks by ID, as verify makes them."""
    (trail,) = [
        t
        for t in org.admin.client("cloudtrail").describe_trails()["trailList"]
        if t["Name"] == TRAIL_NAME
    ]
    checks = Checks()
    check_alert_path(checks, current_account(), trail, insights_told)
    return {check.id: check for check in checks.items}


def failing(org, **options) -> dict[str, str]:
    return {i: c.detail for i, c in judged(org, **options).items() if not c.ok}


def test_the_seeded_alert_path_passes_every_check(org):
    checks = judged(org)
    assert list(checks) == [
        "alerts.topic-encryption",
        "alerts.topic-policy",
        "alerts.subscriptions",
        "alerts.silent-trail",
        "alerts.insights-subscription",
        "alerts.notifier",
        "alerts.notifier-invoke",
        "alerts.notifier-publish",
        "alerts.notifier-failures",
    ]
    # What each says, as test_verify_checks sees it in a whole verify run.
    assert [(c.area, c.name, c.ok, c.detail) for c in checks.values()] == alert_path(org)
    assert all(check.subject == "" for check in checks.values())


def test_without_insights_told_the_notifier_is_not_asked_for(org):
    assert not any("notifier" in check for check in judged(org, insights_told=False))


def test_a_topic_without_encryption_or_with_the_aws_managed_key_fails(org):
    sns = org.admin.client("sns")
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue="")
    assert failing(org) == {
        "alerts.topic-encryption": f"{TOPIC} is not encrypted (KmsMasterKeyId not set)"
    }
    sns.set_topic_attributes(
        TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
    )
    assert failing(org)["alerts.topic-encryption"] == (
        "encrypted with the AWS managed key aws/sns, which CloudWatch may not use"
    )


def test_a_disabled_key_fails(org, proxy):
    def disabled(call, answer):
        document = answer.json()
        document["KeyMetadata"]["KeyState"] = "Disabled"
        return answer.with_json(document)

    proxy.on("DescribeKey", disabled)
    assert failing(org)["alerts.topic-encryption"] == f"{org.alarm_key_arn}; key Disabled"


def test_a_key_cloudwatch_may_not_use_fails(org):
    kms = org.admin.client("kms")
    owner_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    kms.put_key_policy(KeyId=org.alarm_key_arn, PolicyName="default", Policy=json.dumps(owner_only))
    assert failing(org) == {
        "alerts.topic-encryption": f"{org.alarm_key_arn}; "
        "the key policy does not let CloudWatch kms:GenerateDataKey; "
        "the key policy does not let CloudWatch kms:Decrypt"
    }


def test_a_topic_policy_that_shuts_out_the_alarms_fails(org):
    only_tls = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": TOPIC,
                "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
            }
        ],
    }
    org.admin.client("sns").set_topic_attributes(
        TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps(only_tls)
    )
    assert failing(org) == {
        "alerts.topic-policy": "the topic policy does not let this account's alarms publish "
        "(ImplicitDeny)"
    }


def test_a_subscription_nobody_confirmed_reaches_nobody(org, proxy):
    def pending(call, answer):
        body = answer.body.decode()
        body = body.replace(
            body.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0], "PendingConfirmation"
        )
        return type(answer)(answer.status, answer.headers, body.encode())

    proxy.on("ListSubscriptionsByTopic", pending)
    assert failing(org) == {
        "alerts.subscriptions": "none confirmed; pending confirmation (reaches nobody yet): "
        f"sqs:arn:aws:sqs:us-east-1:{MANAGEMENT}:on-call"
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # Every value CloudWatch takes but breaching (PutMetricAlarm, TreatMissingData):
        # with any of them a trail that stops delivering never pages.
        ({"TreatMissingData": "notBreaching"}, "missing data is notBreaching, not breaching"),
        ({"TreatMissingData": "missing"}, "missing data is missing, not breaching"),
        ({"TreatMissingData": "ignore"}, "missing data is ignore, not breaching"),
        ({"ActionsEnabled": False}, "actions disabled"),
        ({"AlarmActions": []}, "does not notify the alarm topic"),
        ({"ComparisonOperator": "GreaterThanThreshold"}, "compares GreaterThanThreshold"),
    ],
)
def test_a_silent_trail_alarm_that_would_not_page_fails(org, change, problem):
    alarm = org.admin.client("cloudwatch").describe_alarms(AlarmNames=["org-trail-silent-trail"])
    current = alarm["MetricAlarms"][0]
    keep = (
        "AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
        "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
        "ActionsEnabled", "AlarmActions", "OKActions",
    )  # fmt: skip
    org.admin.client("cloudwatch").put_metric_alarm(**{**{k: current[k] for k in keep}, **change})
    (detail,) = failing(org).values()
    assert detail.startswith("org-trail-silent-trail: ") and problem in detail


def test_no_alarm_on_the_log_group_fails(org):
    org.admin.client("cloudwatch").delete_alarms(AlarmNames=["org-trail-silent-trail"])
    assert failing(org) == {
        "alerts.silent-trail": f"no alarm on AWS/Logs IncomingLogEvents of {GROUP}"
    }


def test_without_the_subscription_filter_no_notifier_is_counted(org):
    org.admin.client("logs").delete_subscription_filter(
        logGroupName=GROUP, filterName="org-trail-insights"
    )
    found = failing(org)
    assert found.pop("alerts.insights-subscription") == (
        f'no subscription filter of {GROUP} with {{ $.eventType = "AwsCloudTrailInsight" }} '
        "to a function"
    )
    assert found == dict.fromkeys(
        (
            "alerts.notifier",
            "alerts.notifier-invoke",
            "alerts.notifier-publish",
            "alerts.notifier-failures",
        ),
        "no notifier subscribed to the trail's log group",
    )


def test_a_filter_that_selects_something_else_is_not_the_notifiers(org):
    logs = org.admin.client("logs")
    function = org.admin.client("lambda").get_function(FunctionName=NOTIFIER)
    logs.put_subscription_filter(
        logGroupName=GROUP,
        filterName="org-trail-insights",
        filterPattern='{ $.eventType = "AwsApiCall" }',
        destinationArn=function["Configuration"]["FunctionArn"],
    )
    assert failing(org)["alerts.insights-subscription"].endswith("(filters: org-trail-insights)")


def test_a_notifier_pointed_elsewhere_fails(org):
    elsewhere = TOPIC.replace(ALARM_TOPIC, "someone-elses-topic")
    org.admin.client("lambda").update_function_configuration(
        FunctionName=NOTIFIER, Environment={"Variables": {"TOPIC_ARN": elsewhere}}
    )
    assert failing(org) == {"alerts.notifier": f"publishes to {elsewhere}, not {TOPIC}"}


def test_a_notifier_logs_may_not_invoke_for_this_group_fails(org):
    lambda_ = org.admin.client("lambda")
    lambda_.remove_permission(FunctionName=NOTIFIER, StatementId="logs")
    lambda_.add_permission(
        FunctionName=NOTIFIER,
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{MANAGEMENT}:log-group:/some/other/group:*",
        SourceAccount=MANAGEMENT,
    )
    assert failing(org) == {
        "alerts.notifier-invoke": f"logs.amazonaws.com from {GROUP}: ImplicitDeny"
    }


def test_a_role_without_the_topics_key_may_not_publish(org):
    policy = notifier_policy(org.organization, ALARM_TOPIC, org.alarm_key_arn)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "TopicKeyThroughSns"]
    org.admin.client("iam").put_role_policy(
        RoleName=NOTIFIER, PolicyName="notifier", PolicyDocument=json.dumps(policy)
    )
    assert failing(org) == {
        "alerts.notifier-publish": f"{ROLE}; "
        f"its policies do not allow kms:GenerateDataKey on {org.alarm_key_arn}; "
        f"its policies do not allow kms:Decrypt on {org.alarm_key_arn}"
    }


def test_a_topic_policy_denying_the_notifier_fails_its_publish(org):
    sns = org.admin.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    policy["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"AWS": ROLE},
            "Action": "sns:Publish",
            "Resource": TOPIC,
        }
    )
    sns.set_topic_attributes(
        TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    assert failing(org) == {
        "alerts.notifier-publish": f"{ROLE}; the topic policy denies it sns:Publish"
    }


def test_a_key_policy_that_leaves_the_account_out_fails_the_notifiers_publish(org):
    cloudwatch_only = alarm_topic_key_policy(org.organization)
    cloudwatch_only["Statement"] = [
        s for s in cloudwatch_only["Statement"] if s["Sid"] != "AccountAdministration"
    ]
    org.admin.client("kms").put_key_policy(
        KeyId=org.alarm_key_arn, PolicyName="default", Policy=json.dumps(cloudwatch_only)
    )
    assert failing(org) == {
        "alerts.notifier-publish": f"{ROLE}; the key policy does not let it kms:GenerateDataKey; "
        "the key policy does not let it kms:Decrypt"
    }


def test_failures_that_go_nowhere_fail(org):
    lambda_ = org.admin.client("lambda")
    lambda_.delete_function_event_invoke_config(FunctionName=NOTIFIER)
    (detail,) = failing(org).values()
    assert detail.startswith("ResourceNotFoundException")
    on_success_only = {"OnSuccess": {"Destination": TOPIC}}
    lambda_.put_function_event_invoke_config(
        FunctionName=NOTIFIER, MaximumRetryAttempts=2, DestinationConfig=on_success_only
    )
    assert failing(org) == {"alerts.notifier-failures": "on failure: nowhere"}


def test_a_missing_topic_fails_each_topic_check_and_names_it(org):
    org.admin.client("sns").delete_topic(TopicArn=TOPIC)
    checks = judged(org)
    for check, name in (ENCRYPTION, POLICY, SUBSCRIPTIONS):
        assert not checks[check].ok and checks[check].detail.startswith(f"{TOPIC}: NotFound")
        assert checks[check].name == name


def test_a_role_with_a_path_and_managed_policies_is_read_whole(org):
    """The notifier's rights may come from attached managed policies, on a role with a path:
    all of them are read; one that denies wins."""
    iam = org.admin.client("iam")
    lambda_ = org.admin.client("lambda")
    trust = iam.get_role(RoleName=NOTIFIER)["Role"]["AssumeRolePolicyDocument"]
    role = iam.create_role(
        RoleName="notifier-managed", Path="/org-trail/", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    allow = iam.create_policy(
        PolicyName="notifier-allow",
        PolicyDocument=json.dumps(
            notifier_policy(org.organization, ALARM_TOPIC, org.alarm_key_arn)
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="notifier-managed", PolicyArn=allow)
    lambda_.update_function_configuration(FunctionName=NOTIFIER, Role=role)
    assert "alerts.notifier-publish" not in failing(org)
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "sns:Publish", "Resource": "*"}
    ]}  # fmt: skip
    iam.put_role_policy(
        RoleName="notifier-managed", PolicyName="deny", PolicyDocument=json.dumps(deny)
    )
    assert failing(org) == {
        "alerts.notifier-publish": f"{role}; its policies do not allow sns:Publish on {TOPIC}"
    }


def test_the_insights_pattern_may_be_spaced_differently_but_not_its_value(org):
    function = org.admin.client("lambda").get_function(FunctionName=NOTIFIER)

    def subscribed(pattern: str) -> dict:
        org.admin.client("logs").put_subscription_filter(
            logGroupName=GROUP,
            filterName="org-trail-insights",
            filterPattern=pattern,
            destinationArn=function["Configuration"]["FunctionArn"],
        )
        return failing(org)

    assert subscribed('{$.eventType="AwsCloudTrailInsight"}') == {}
    assert "alerts.insights-subscription" in subscribed('{ $.eventType = "Aws CloudTrailInsight" }')


def test_a_trail_without_a_log_group_or_not_read_fails_the_path_and_says_which(org):
    for trail, detail in (
        (
            {"Name": "weak"},
            "no CloudWatchLogsLogGroupArn: no alarm and no Insights notice can see the trail",
        ),
        (None, "the trail was not read"),
    ):
        checks = Checks()
        check_alert_path(checks, current_account(), trail, True)
        assert [(c.id, c.name, c.ok, c.detail) for c in checks.items] == [
            ("alerts.log-group", "the trail has a CloudWatch Logs group to alarm on", False, detail)
        ]


def test_the_path_is_read_in_the_log_groups_region_and_account(org):
    """A trail whose log group is in eu-west-1 has its topic, alarm and subscription there:
    the seeded ones, in us-east-1, do not count."""
    group = f"arn:aws:logs:eu-west-1:{MANAGEMENT}:log-group:{GROUP}:*"
    checks = Checks()
    check_alert_path(checks, current_account(), {"CloudWatchLogsLogGroupArn": group}, True)
    found = {c.id: c for c in checks.items}
    topic = f"arn:aws:sns:eu-west-1:{MANAGEMENT}:{ALARM_TOPIC}"
    assert found["alerts.topic-encryption"].detail.startswith(f"{topic}: NotFound")
    assert not found["alerts.silent-trail"].ok
    assert not found["alerts.insights-subscription"].ok


def test_a_notifier_that_failed_to_deploy_or_has_no_topic_fails(org, proxy):
    def failed(call, answer):
        # GetFunction: GET /2015-03-31/functions/<name or URL-encoded ARN>
        path = unquote(call.path)
        if call.method != "GET" or "/functions/" not in path or not path.endswith(NOTIFIER):
            return None
        document = answer.json()
        document["Configuration"].update(
            State="Failed",
            StateReason="the role cannot be assumed",
            LastUpdateStatus="Failed",
            LastUpdateStatusReason="code too large",
        )
        return answer.with_json(document)

    proxy.add(failed)
    assert failing(org)["alerts.notifier"] == (
        "state Failed: the role cannot be assumed; last update failed: code too large"
    )
    proxy.clear()
    org.admin.client("lambda").update_function_configuration(
        FunctionName=NOTIFIER, Environment={"Variables": {}}
    )
    assert failing(org) == {
        "alerts.notifier": f"publishes to nothing (TOPIC_ARN not set), not {TOPIC}"
    }


def test_every_confirmed_subscription_is_named_and_every_unconfirmed_one(org, proxy):
    sns, sqs = org.admin.client("sns"), org.admin.client("sqs")
    for name in ("pager", "mailbox", "gone"):
        queue = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn["QueueArn"])

    states = {"mailbox": "PendingConfirmation", "gone": "Deleted"}

    def unconfirm(member: re.Match) -> str:
        block = member.group(0)
        queue = re.search(r"<Endpoint>[^<]*:([a-z-]+)</Endpoint>", block).group(1)
        if queue not in states:
            return block
        return re.sub(
            r"<SubscriptionArn>[^<]*</SubscriptionArn>",
            f"<SubscriptionArn>{states[queue]}</SubscriptionArn>",
            block,
        )

    def some_unconfirmed(call, answer):
        body = re.sub(r"<member>.*?</member>", unconfirm, answer.body.decode(), flags=re.S)
        return type(answer)(answer.status, answer.headers, body.encode())

    proxy.on("ListSubscriptionsByTopic", some_unconfirmed)
    detail = judged(org)["alerts.subscriptions"].detail
    queue = f"sqs:arn:aws:sqs:us-east-1:{MANAGEMENT}"
    assert detail == (
        f"{queue}:on-call, {queue}:pager; pending confirmation (reaches nobody yet): "
        f"{queue}:mailbox, {queue}:gone"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"State": None}, "state not given: "),
        ({"State": "Inactive", "StateReason": "idle"}, "state Inactive: idle"),
        ({"LastUpdateStatus": "InProgress"}, "last update InProgress"),
        ({"LastUpdateStatus": None}, "last update not given"),
    ],
)
def test_a_notifier_in_a_state_not_known_good_fails(org, proxy, change, problem):
    def rewritten(call, answer):
        path = unquote(call.path)
        if call.method != "GET" or "/functions/" not in path or not path.endswith(NOTIFIER):
            return None
        document = answer.json()
        for key, value in change.items():
            if value is None:
                document["Configuration"].pop(key, None)
            else:
                document["Configuration"][key] = value
        return answer.with_json(document)

    proxy.add(rewritten)
    assert failing(org)["alerts.notifier"] == problem


def test_a_subscription_in_a_state_not_known_is_not_confirmed(org, proxy):
    def unknown(call, answer):
        body = re.sub(
            r"<SubscriptionArn>[^<]*</SubscriptionArn>",
            "<SubscriptionArn>Unconfirmed</SubscriptionArn>",
            answer.body.decode(),
        )
        return type(answer)(answer.status, answer.headers, body.encode())

    proxy.on("ListSubscriptionsByTopic", unknown)
    assert not judged(org)["alerts.subscriptions"].ok


# An oracle for the Insights filter pattern, written apart from alert_path._same_pattern: the
# pattern tokenised as CloudWatch Logs reads a JSON filter (braces, selector, operator, quoted
# value; white space separates tokens and means nothing else outside quotes).
_TOKEN = re.compile(r'"[^"]*"|[{}]|!?=|[^\s{}!="]+')
_INSIGHTS_TOKENS = ["{", "$.eventType", "=", '"AwsCloudTrailInsight"', "}"]
_VOCABULARY = [
    "{", "}", "$.eventType", "$.eventName", "=", "!=", '"AwsCloudTrailInsight"',
    '"Aws CloudTrailInsight"', '"AwsApiCall"', '" AwsCloudTrailInsight"',
]  # fmt: skip


def _oracle(pattern: str) -> bool:
    return _TOKEN.findall(pattern) == _INSIGHTS_TOKENS


@given(
    st.one_of(
        st.just(_INSIGHTS_TOKENS),
        st.lists(st.sampled_from(_INSIGHTS_TOKENS), min_size=4, max_size=6),
        # The pattern with one token changed: a near miss.
        st.tuples(st.integers(0, 4), st.sampled_from(_VOCABULARY)).map(
            lambda change: [
                change[1] if index == change[0] else token
                for index, token in enumerate(_INSIGHTS_TOKENS)
            ]
        ),
        st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=7),
    ),
    st.lists(st.sampled_from(["", " ", "  ", "\t", "\n"]), min_size=8, max_size=8),
)
@example([*_INSIGHTS_TOKENS[:3], '"Aws CloudTrailInsight"', "}"], [" "] * 8)
@example([*_INSIGHTS_TOKENS[:3], '" AwsCloudTrailInsight"', "}"], [""] * 8)
@settings(max_examples=500, derandomize=True)
def test_the_pattern_judgement_agrees_with_a_tokenising_oracle(tokens, spaces):
    from orgtrail.ops.alert_path import _same_pattern

    pattern = spaces[0] + "".join(t + s for t, s in zip(tokens, spaces[1:], strict=False))
    assert _same_pattern(pattern) == _oracle(pattern), pattern
