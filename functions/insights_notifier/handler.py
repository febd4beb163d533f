"""Tell a person about each CloudTrail Insights event of the organisation.

Runs as a Lambda function in the management account, subscribed to the organization trail's
CloudWatch Logs group with the filter `{ $.eventType = "AwsCloudTrailInsight" }`. CloudTrail
sends Insights events to the trail's log group as it sends management and data events
("CloudTrail supports sending data, Insights, and management events to CloudWatch Logs",
AWS CloudTrail User Guide, "Sending events to CloudWatch Logs"), and an organization trail
sends every member account's, in every region, to that one group: an account or a region
that joins later is covered without anything deployed into it.

CloudWatch Logs hands a subscribed function a base64-encoded, gzip-compressed document
`{"messageType", "logGroup", "logEvents": [{"id", "timestamp", "message"}]}` (CloudWatch
Logs User Guide, "Using CloudWatch Logs subscription filters", example with Lambda); each
`message` is one CloudTrail record, laid out as "CloudTrail record contents for Insights
events for trails" and "CloudTrail Insights insightDetails element" describe it.

One SNS message per Insights event: the start of unusual activity, then its end (both carry
the same sharedEventID). A record that cannot be read is said in a message of its own, never
dropped. A failed publish raises, so Lambda retries and then sends the event to the
function's on-failure destination (the same topic).

Only the standard library and boto3 (in the Lambda runtime): the stack packages this file alone.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from typing import Any

import boto3

INSIGHT = "AwsCloudTrailInsight"
TYPES = {
    "ApiCallRateInsight": "API call rate",
    "ApiErrorRateInsight": "API error rate",
}
SUBJECT_LIMIT = 100  # SNS Publish: Subject at most 100 characters
# The AWS console's domain per partition (AWS General Reference, "AWS Management Console").
CONSOLES = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}

_account_names: dict[str, str] = {}


def records(event: dict) -> tuple[list[dict], list[str]]:
    """The CloudTrail records of a subscription delivery, and what could not be read."""
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") == "CONTROL_MESSAGE":  # CloudWatch Logs checking the path
        return [], []
    found, unreadable, seen = [], [], set()
    for log_event in payload.get("logEvents", []):
        try:
            record = json.loads(log_event["message"])
            if record.get("eventType") == INSIGHT and "state" not in record["insightDetails"]:
                raise KeyError("insightDetails.state")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            unreadable.append(
                f"log event {log_event.get('id', '?')}: {type(error).__name__} {error}"
            )
            continue
        if record.get("eventType") != INSIGHT or record.get("eventID") in seen:
            continue  # the filter admits only Insights; a repeated delivery is told once
        seen.add(record.get("eventID"))
        found.append(record)
    return found, unreadable


def account_name(organizations: Any, account_id: str) -> str:
    if account_id not in _account_names:
        try:
            name = organizations.describe_account(AccountId=account_id)["Account"]["Name"]
        except Exception as error:  # the message goes out without the name, saying why
            return f"name not read: {getattr(error, 'response', {}).get('Error', {}).get('Code', type(error).__name__)}"
        _account_names[account_id] = name
    return _account_names[account_id]


def _per_minute(value: Any) -> str:
    if not isinstance(value, int | float):
        return "not given"
    return f"{value:.4g} per minute"


def _top(attributions: list, attribute: str) -> str:
    for entry in attributions or []:
        if entry.get("attribute") == attribute:
            values = [
                f"{item.get('value')} ({_per_minute(item.get('average'))})"
                for item in (entry.get("insight") or [])[:3]
            ]
            return "; ".join(values) or "none given"
    return "none given"


def subject_text(text: str) -> str:
    """SNS takes a Subject of at most 100 printable ASCII characters, on one line (SNS API
    reference, Publish, `Subject`); longer ones are cut with "..."."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    if len(printable) > SUBJECT_LIMIT:
        printable = printable[: SUBJECT_LIMIT - 3] + "..."
    return printable


def message(record: dict, name: str, partition: str = "aws") -> tuple[str, str, dict]:
    """Subject, body and message attributes of one Insights event."""
    details = record["insightDetails"]
    context = details.get("insightContext") or {}
    statistics = context.get("statistics") or {}
    attributions = context.get("attributions") or []
    account = record.get("recipientAccountId", "unknown account")
    region = record.get("awsRegion", "unknown region")
    state = details.get("state", "?")
    kind = TYPES.get(details.get("insightType"), f"unknown type {details.get('insightType')}")
    api = f"{details.get('eventSource', '?')} {details.get('eventName', '?')}"
    baseline = (statistics.get("baseline") or {}).get("average")
    observed = (statistics.get("insight") or {}).get("average")
    ratio = (
        f" ({observed / baseline:,.0f} times the baseline)"
        if isinstance(observed, int | float) and isinstance(baseline, int | float) and baseline
        else ""
    )
    began = "started" if state == "Start" else "ended" if state == "End" else f"is {state}"
    headline = f"Unusual {kind} {began}: {api}"
    subject = subject_text(f"[org-trail] Insights {state}: {api}, {account} ({name}) {region}")
    lines = [
        headline,
        "",
        f"Account:   {account} ({name})",
        f"Region:    {region}",
        f"API:       {api}",
        f"Type:      {kind} ({details.get('insightType')})",
        f"State:     {state} at {record.get('eventTime', '?')}",
        f"Observed:  {_per_minute(observed)}{ratio}",
        f"Baseline:  {_per_minute(baseline)} over {statistics.get('baselineDuration', '?')} minutes",
    ]
    if state == "End":
        lines.append(f"Lasted:    {statistics.get('insightDuration', '?')} minutes")
    lines += [
        f"Callers:   {_top(attributions, 'userIdentityArn')}",
        f"Agents:    {_top(attributions, 'userAgent')}",
        f"Errors:    {_top(attributions, 'errorCode')}",
        f"Incident:  {record.get('sharedEventID', '?')} (the start and the end share it)",
        "",
        "Look next:",
        f"  - the calls themselves, in Athena (security account): eventsource = "
        f"'{details.get('eventSource')}' AND eventname = '{details.get('eventName')}' AND "
        f"account = '{account}' AND region = '{region}', around {record.get('eventTime')}",
        "  - open and recent Insights: the named query org-trail-insights-open, or "
        "`orgtrail query insights --logs DIR` on a synced copy",
        f"  - the console: https://{region}.{CONSOLES.get(partition, CONSOLES['aws'])}"
        f"/cloudtrailv2/home?region={region}#/insights (signed in to {account})",
    ]
    attributes = {
        key: {"DataType": "String", "StringValue": str(value)}
        for key, value in (
            ("state", state),
            ("insightType", details.get("insightType")),
            ("account", account),
            ("region", region),
        )
    }
    return subject, "\n".join(lines), attributes


def handle(event: dict, context: Any = None) -> dict:
    topic = os.environ["TOPIC_ARN"]
    partition = topic.split(":")[1]
    # A session per invocation: it reads the credentials the environment holds now.
    session = boto3.session.Session()
    sns = session.client("sns")
    organizations = session.client("organizations")
    found, unreadable = records(event)
    for record in found:
        name = account_name(organizations, record.get("recipientAccountId", ""))
        subject, body, attributes = message(record, name, partition)
        sns.publish(TopicArn=topic, Subject=subject, Message=body, MessageAttributes=attributes)
    if unreadable:
        sns.publish(
            TopicArn=topic,
            Subject="[org-trail] Insights events that could not be read",
            Message="The Insights notifier received events it could not read; look them up "
            "in the organization trail's log group:\n" + "\n".join(unreadable),
        )
    return {"notified": len(found), "unreadable": len(unreadable)}
