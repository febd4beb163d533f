"""`verify`'s alert path: what tells a person can deliver, judged from what AWS says.

The alarm topic (in the trail's home region, the management account): encrypted with an
enabled key whose policy lets CloudWatch use it (an alarm cannot publish to a topic
encrypted with the AWS managed key aws/sns); a topic policy that lets this account's alarms
publish; at least one confirmed subscription (one still PendingConfirmation reaches nobody).
The silent-trail alarm on the trail's log group. With Insights told: the subscription filter
handing Insights events to the notifier, the notifier active and pointed at the topic,
CloudWatch Logs allowed to invoke it for this log group, its role allowed to publish with
the topic's key, and its failures sent to the topic. Permissions are evaluated with the
project's policy evaluator, never matched by name; what cannot be read fails, named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from orgtrail.contract.policy_documents import (
    ALARM_TOPIC,
    CLOUDWATCH,
    DNS_SUFFIXES,
    INSIGHTS_PATTERN,
)
from orgtrail.ops.aws import AWS_ERRORS, Account, error_text, paginate
from orgtrail.policy_eval import ALLOW, DENY, Request, evaluate

LOGS = "logs.amazonaws.com"
SILENT_METRIC = ("AWS/Logs", "IncomingLogEvents")
LESS_THAN = ("LessThanThreshold", "LessThanOrEqualToThreshold")
ENCRYPTION = (
    "alerts.topic-encryption",
    "the alarm topic is encrypted with a key CloudWatch may use",
)
POLICY = ("alerts.topic-policy", "this account's alarms may publish to the alarm topic")
SUBSCRIPTIONS = ("alerts.subscriptions", "someone has confirmed a subscription to the alarm topic")


@dataclass(frozen=True)
class Place:
    """Where the trail's alerts live: its log group's region and account."""

    partition: str
    region: str
    account: str
    log_group: str

    @classmethod
    def of(cls, log_group_arn: str) -> Place:
        # arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]
        _, partition, _, region, account, _, name, *_ = log_group_arn.split(":")
        return cls(partition, region, account, name)

    @property
    def topic_arn(self) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{ALARM_TOPIC}"

    @property
    def log_group_arn(self) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.log_group}"


def _allowed(documents: list[dict], request: Request) -> bool:
    """Allowed by one of the documents and denied by none (one principal's policies)."""
    decisions = [evaluate(document, request) for document in documents]
    return ALLOW in decisions and DENY not in decisions


# White space outside double quotes (an even number of quotes follows it): CloudWatch Logs
# reads `{$.eventType="x"}` as `{ $.eventType = "x" }`; inside the quotes it is the value.
_UNQUOTED_SPACE = re.compile(r'\s+(?=(?:[^"]*"[^"]*")*[^"]*$)')


def _same_pattern(pattern: str) -> bool:
    return _UNQUOTED_SPACE.sub("", pattern or "") == _UNQUOTED_SPACE.sub("", INSIGHTS_PATTERN)


def check_alert_path(checks, management: Account, trail: dict | None, insights_told: bool) -> None:
    group_arn = (trail or {}).get("CloudWatchLogsLogGroupArn")
    if not group_arn:
        checks.add(
            "alerts.log-group",
            "the trail has a CloudWatch Logs group to alarm on",
            False,
            "no CloudWatchLogsLogGroupArn: no alarm and no Insights notice can see the trail"
            if trail
            else "the trail was not read",
        )
        return
    place = Place.of(group_arn)
    key, topic_policy = _check_topic(checks, management, place)
    _check_silent_trail(checks, management, place)
    if insights_told:
        _check_notifier(checks, management, place, key, topic_policy)


def _check_topic(checks, management: Account, place: Place) -> tuple[str | None, dict | None]:
    """The topic's encryption, policy and subscriptions; its key and its policy, as read."""
    sns = management.client("sns", place.region)
    topic = place.topic_arn
    try:
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    except AWS_ERRORS as error:
        for check_id, name in (ENCRYPTION, POLICY, SUBSCRIPTIONS):
            checks.add(check_id, name, False, f"{topic}: {error_text(error)}")
        return None, None
    key = attributes.get("KmsMasterKeyId")

    def encryption(read: dict) -> tuple[bool, str]:
        key = read.get("KmsMasterKeyId")
        if not key:
            return False, f"{topic} is not encrypted (KmsMasterKeyId not set)"
        if key.endswith("alias/aws/sns"):
            return False, "encrypted with the AWS managed key aws/sns, which CloudWatch may not use"
        kms = management.client("kms", place.region)
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
        policy = json.loads(
            kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
        )
        context = {"aws:SourceAccount": place.account}
        missing = [
            action
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
            if evaluate(policy, Request(action, "*", service=CLOUDWATCH, context=context)) != ALLOW
        ]
        problems = [f"key {metadata['KeyState']}"] if metadata["KeyState"] != "Enabled" else []
        problems += [f"the key policy does not let CloudWatch {action}" for action in missing]
        return not problems, "; ".join([metadata["Arn"], *problems])

    checks.guarded(
        *ENCRYPTION,
        lambda: attributes,
        encryption,
    )

    def policy(read: dict) -> tuple[bool, str]:
        document = json.loads(read.get("Policy") or "{}")
        alarm = f"arn:{place.partition}:cloudwatch:{place.region}:{place.account}:alarm:org-trail-silent-trail"
        context = {
            "aws:SourceAccount": place.account,
            "aws:SourceArn": alarm,
            "aws:SecureTransport": "true",
        }
        decision = evaluate(
            document, Request("sns:Publish", topic, service=CLOUDWATCH, context=context)
        )
        if decision != ALLOW:
            return (
                False,
                f"the topic policy does not let this account's alarms publish ({decision})",
            )
        return True, "this account's alarms may publish"

    checks.guarded(
        *POLICY,
        lambda: attributes,
        policy,
    )

    def subscriptions(listed: list[dict]) -> tuple[bool, str]:
        # A confirmed subscription has an ARN; PendingConfirmation, Deleted or anything else
        # reaches nobody (SNS API reference, ListSubscriptionsByTopic, SubscriptionArn).
        confirmed = [s for s in listed if s["SubscriptionArn"].startswith("arn:")]
        pending = [f"{s['Protocol']}:{s['Endpoint']}" for s in listed if s not in confirmed]
        detail = (
            ", ".join(f"{s['Protocol']}:{s['Endpoint']}" for s in confirmed) or "none confirmed"
        )
        if pending:
            detail += f"; pending confirmation (reaches nobody yet): {', '.join(pending)}"
        return bool(confirmed), detail

    checks.guarded(
        *SUBSCRIPTIONS,
        lambda: paginate(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic),
        subscriptions,
    )
    try:
        policy_read = json.loads(attributes.get("Policy") or "{}")
    except ValueError:
        policy_read = None  # topic-policy says so; here nothing can be ruled out
    return key, policy_read


def _check_silent_trail(checks, management: Account, place: Place) -> None:
    cloudwatch = management.client("cloudwatch", place.region)
    namespace, metric = SILENT_METRIC

    def judge(response: dict) -> tuple[bool, str]:
        problems_of = {}
        for alarm in response.get("MetricAlarms", []):
            problems = []
            if not alarm.get("ActionsEnabled"):
                problems.append("actions disabled")
            if alarm.get("ComparisonOperator") not in LESS_THAN:
                problems.append(f"compares {alarm.get('ComparisonOperator')}, not below a floor")
            if alarm.get("TreatMissingData") != "breaching":
                problems.append(
                    f"missing data is {alarm.get('TreatMissingData') or 'missing'}, not breaching "
                    "(a trail that sends nothing would never alarm)"
                )
            if place.topic_arn not in alarm.get("AlarmActions", []):
                problems.append("does not notify the alarm topic")
            if not problems:
                return (
                    True,
                    f"{alarm['AlarmName']}: below {alarm['Threshold']:g} in {alarm['Period']} s",
                )
            problems_of[alarm["AlarmName"]] = problems
        if not problems_of:
            return False, f"no alarm on {namespace} {metric} of {place.log_group}"
        return False, "; ".join(f"{name}: {', '.join(p)}" for name, p in problems_of.items())

    checks.guarded(
        "alerts.silent-trail",
        "an alarm pages when the trail's log group goes silent",
        lambda: cloudwatch.describe_alarms_for_metric(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": "LogGroupName", "Value": place.log_group}],
        ),
        judge,
    )


def _role_documents(management: Account, role_arn: str) -> list[dict]:
    """Every identity policy of a role: inline and attached (boto3 hands the documents over
    decoded, as mappings)."""
    iam = management.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in paginate(iam, "list_role_policies", "PolicyNames", RoleName=role)
    ]
    for attached in paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role):
        version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)
        documents.append(document["PolicyVersion"]["Document"])
    return documents


def _check_notifier(
    checks, management: Account, place: Place, key: str | None, topic_policy: dict | None
) -> None:
    logs = management.client("logs", place.region)
    notified = [
        ("alerts.notifier", "the Insights notifier is active and publishes to the alarm topic"),
        (
            "alerts.notifier-invoke",
            "CloudWatch Logs may invoke the notifier for the trail's log group",
        ),
        ("alerts.notifier-publish", "the notifier's role may publish to the topic with its key"),
        ("alerts.notifier-failures", "the notifier's failures go to the alarm topic"),
    ]
    try:
        filters = paginate(
            logs,
            "describe_subscription_filters",
            "subscriptionFilters",
            logGroupName=place.log_group,
        )
    except AWS_ERRORS as error:
        filters, unread = [], error_text(error)
    else:
        unread = None
    insights = [f for f in filters if _same_pattern(f.get("filterPattern", ""))]
    functions = [f["destinationArn"] for f in insights if ":lambda:" in f.get("destinationArn", "")]
    if unread or not functions:
        detail = unread or (
            f"no subscription filter of {place.log_group} with {INSIGHTS_PATTERN} to a function"
            + (f" (filters: {', '.join(f['filterName'] for f in filters)})" if filters else "")
        )
        checks.add(
            "alerts.insights-subscription", "Insights events go to the notifier", False, detail
        )
        for check_id, name in notified:
            checks.add(check_id, name, False, "no notifier subscribed to the trail's log group")
        return
    function_arn = functions[0]
    checks.add(
        "alerts.insights-subscription",
        "Insights events go to the notifier",
        True,
        f"{insights[0]['filterName']} -> {function_arn}",
    )
    lambda_ = management.client("lambda", place.region)

    def active(response: dict) -> tuple[bool, str]:
        configuration = response["Configuration"]
        topic = (configuration.get("Environment") or {}).get("Variables", {}).get("TOPIC_ARN")
        problems = []
        # Only Active and Successful are known good (Lambda API reference, FunctionConfiguration:
        # State Pending | Active | Inactive | Failed, LastUpdateStatus Successful | Failed |
        # InProgress); anything else, or nothing, is said as what it is.
        state = configuration.get("State") or "not given"
        if state != "Active":
            problems.append(f"state {state}: {configuration.get('StateReason', '')}")
        update = configuration.get("LastUpdateStatus") or "not given"
        if update == "Failed":
            problems.append(
                f"last update failed: {configuration.get('LastUpdateStatusReason', '')}"
            )
        elif update != "Successful":
            problems.append(f"last update {update}")
        if topic != place.topic_arn:
            problems.append(
                f"publishes to {topic or 'nothing (TOPIC_ARN not set)'}, not {place.topic_arn}"
            )
        return not problems, "; ".join(problems) or f"{configuration['FunctionArn']} -> {topic}"

    (notifier_id, notifier_name), (invoke_id, invoke_name) = notified[0], notified[1]
    checks.guarded(
        notifier_id, notifier_name, lambda: lambda_.get_function(FunctionName=function_arn), active
    )

    def invoke(response: dict) -> tuple[bool, str]:
        policy = json.loads(response["Policy"])
        context = {"aws:SourceArn": f"{place.log_group_arn}:*", "aws:SourceAccount": place.account}
        decision = evaluate(
            policy, Request("lambda:InvokeFunction", function_arn, service=LOGS, context=context)
        )
        return decision == ALLOW, f"{LOGS} from {place.log_group}: {decision}"

    checks.guarded(
        invoke_id, invoke_name, lambda: lambda_.get_policy(FunctionName=function_arn), invoke
    )

    def publish(role_arn: str) -> tuple[bool, str]:
        """Allowed by the role's own policies, not denied by the topic's, and the key's
        policy letting the role's account (or the role) use it through SNS."""
        documents = _role_documents(management, role_arn)
        tls = {"aws:SecureTransport": "true"}
        problems = []
        if not _allowed(documents, Request("sns:Publish", place.topic_arn)):
            problems.append(f"its policies do not allow sns:Publish on {place.topic_arn}")
        publish_as_role = Request(
            "sns:Publish", place.topic_arn, principal_arn=role_arn, context=tls
        )
        if topic_policy is not None and evaluate(topic_policy, publish_as_role) == DENY:
            problems.append("the topic policy denies it sns:Publish")
        if key:
            kms = management.client("kms", place.region)
            metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
            key_policy = json.loads(
                kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
            )
            suffix = DNS_SUFFIXES.get(place.partition, "amazonaws.com")
            through_sns = {"kms:ViaService": f"sns.{place.region}.{suffix}"}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                own = Request(action, metadata["Arn"], context=through_sns)
                if not _allowed(documents, own):
                    problems.append(f"its policies do not allow {action} on {metadata['Arn']}")
                as_role = Request(
                    action, metadata["Arn"], principal_arn=role_arn, context=through_sns
                )
                if evaluate(key_policy, as_role) != ALLOW:
                    problems.append(f"the key policy does not let it {action}")
        return not problems, "; ".join([role_arn, *problems])

    publish_id, publish_name = notified[2]
    checks.guarded(
        publish_id,
        publish_name,
        lambda: lambda_.get_function(FunctionName=function_arn)["Configuration"]["Role"],
        publish,
    )

    def failures(response: dict) -> tuple[bool, str]:
        destination = (
            (response.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        )
        return destination == place.topic_arn, f"on failure: {destination or 'nowhere'}"

    failures_id, failures_name = notified[3]
    checks.guarded(
        failures_id,
        failures_name,
        lambda: lambda_.get_function_event_invoke_config(FunctionName=function_arn),
        failures,
    )
