"""The Insights notifier: a subscription delivery of real-shaped Insights records becomes one
message per event a person can act on, published to the alarm topic (moto's SNS, read back
through an SQS subscription)."""

import base64
import gzip
import json
from datetime import timedelta

import pytest

from functions.insights_notifier import handler
from tests.support.cloudtrail_events import START, Generator, insight_incidents, insight_record


def delivery(*messages: str, message_type: str = "DATA_MESSAGE") -> dict:
    """What CloudWatch Logs hands a subscribed function (CloudWatch Logs User Guide,
    subscription filters with Lambda): base64 of gzip of this document."""
    document = {
        "messageType": message_type,
        "owner": "111111111111",
        "logGroup": "/aws/cloudtrail/org-trail",
        "logStream": "o-a1b2c3d4e5_CloudTrail_us-east-1",
        "subscriptionFilters": ["org-trail-insights"],
        "logEvents": [
            {
                "id": str(36000000000000000000000000 + index),
                "timestamp": 1764000000000,
                "message": text,
            }
            for index, text in enumerate(messages)
        ],
    }
    return {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}
    }


@pytest.fixture
def incidents():
    return insight_incidents()


def test_each_insights_record_is_read_once_and_what_is_not_an_insight_is_left(incidents):
    start, end = incidents[0].start, incidents[0].end
    management_event = {"eventType": "AwsApiCall", "eventName": "RunInstances"}
    found, unreadable = handler.records(
        delivery(*(json.dumps(r) for r in (start, end, start, management_event)))
    )
    assert found == [start, end]
    assert unreadable == []


def test_a_record_that_cannot_be_read_is_named_not_dropped(incidents):
    broken = {**incidents[1].start, "insightDetails": {"eventSource": "iam.amazonaws.com"}}
    found, unreadable = handler.records(delivery("{not json", json.dumps(broken)))
    assert found == []
    assert unreadable[0].startswith("log event 36000000000000000000000000: JSONDecodeError")
    assert unreadable[1] == "log event 36000000000000000000000001: KeyError 'insightDetails.state'"


def test_a_control_message_is_not_an_event():
    assert handler.records(delivery("CWL CONTROL MESSAGE", message_type="CONTROL_MESSAGE")) == (
        [],
        [],
    )


def test_the_start_message_says_who_where_what_how_much_and_where_to_look(incidents):
    start = incidents[0].start
    subject, body, attributes = handler.message(start, "payments")
    assert subject == (
        "[org-trail] Insights Start: ec2.amazonaws.com RunInstances, 111111111111 (payments) us-east-1"
    )
    lines = body.splitlines()
    assert lines[0] == "Unusual API call rate started: ec2.amazonaws.com RunInstances"
    assert "Account:   111111111111 (payments)" in lines
    assert "Region:    us-east-1" in lines
    assert "Type:      API call rate (ApiCallRateInsight)" in lines
    assert f"State:     Start at {start['eventTime']}" in lines
    assert "Observed:  3.5 per minute (280 times the baseline)" in lines
    assert "Baseline:  0.0125 per minute over 10080 minutes" in lines
    assert (
        "Callers:   arn:aws:sts::111111111111:assumed-role/ci-deployer/session (3.5 per minute)"
        in lines
    )
    assert f"Incident:  {incidents[0].shared} (the start and the end share it)" in lines
    assert not any(line.startswith("Lasted:") for line in lines)  # only an end knows
    assert (
        "  - the console: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1"
        "#/insights (signed in to 111111111111)"
    ) in lines
    assert {key: value["StringValue"] for key, value in attributes.items()} == {
        "state": "Start",
        "insightType": "ApiCallRateInsight",
        "account": "111111111111",
        "region": "us-east-1",
    }


def test_the_end_message_says_how_long_and_error_rates_name_their_errors(incidents):
    end = incidents[2].end
    subject, body, _ = handler.message(end, "data", partition="aws-cn")
    assert subject.startswith("[org-trail] Insights End: s3.amazonaws.com PutBucketPolicy")
    assert "Unusual API error rate ended: s3.amazonaws.com PutBucketPolicy" in body
    assert "Lasted:    14 minutes" in body
    assert "Errors:    AccessDenied (3.5 per minute)" in body
    assert "console.amazonaws.cn/cloudtrailv2" in body


def test_the_subject_stays_within_what_sns_takes():
    record = insight_record(
        Generator(1),
        "Start",
        "x",
        START + timedelta(hours=1),
        account="111111111111",
        region="ap-southeast-2",
        source="servicecatalog-appregistry.amazonaws.com",
        name="AssociateAttributeGroupWithApplicationVersion",
    )
    subject, _, _ = handler.message(record, "Zürich analytics production workloads")
    assert len(subject) == 100 and subject.endswith("...")
    assert all(" " <= c <= "~" for c in subject)


def test_unknown_values_are_said_as_such(incidents):
    record = json.loads(json.dumps(incidents[1].start))
    record["insightDetails"]["insightType"] = "ApiLatencyInsight"
    del record["insightDetails"]["insightContext"]
    _, body, _ = handler.message(record, "name not read: AccessDenied")
    assert "Type:      unknown type ApiLatencyInsight (ApiLatencyInsight)" in body
    assert "Observed:  not given" in body and "Callers:   none given" in body


@pytest.fixture
def topic(org):
    """The alarm topic with an SQS queue subscribed, to read what was published."""
    sns = org.admin.client("sns")
    sqs = org.admin.client("sqs")
    topic_arn = sns.create_topic(Name="org-trail-cis-alarms")["TopicArn"]
    queue = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[dict]:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    return topic_arn, received


def test_every_event_is_published_with_the_accounts_name(org, topic, monkeypatch):
    topic_arn, received = topic
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    handler._account_names.clear()
    payments = org.accounts["payments"]
    generator = Generator(3)
    records = [
        insight_record(
            generator, state, "incident-1", START + timedelta(minutes=minutes),
            account=payments, region="eu-west-1", source="ec2.amazonaws.com", name="RunInstances",
        )
        for state, minutes in (("Start", 0), ("End", 14))
    ]  # fmt: skip
    stranger = {**records[0], "recipientAccountId": "999999999999", "eventID": "other"}
    result = handler.handle(delivery(*(json.dumps(r) for r in (*records, stranger))))
    assert result == {"notified": 3, "unreadable": 0}
    messages = received()
    assert sorted(m["Subject"] for m in messages) == sorted(
        [
            f"[org-trail] Insights Start: ec2.amazonaws.com RunInstances, {payments} (payments) eu-west-1",
            f"[org-trail] Insights End: ec2.amazonaws.com RunInstances, {payments} (payments) eu-west-1",
            handler.subject_text(
                "[org-trail] Insights Start: ec2.amazonaws.com RunInstances, 999999999999 "
                "(name not read: AccountNotFoundException) eu-west-1"
            ),
        ]
    )
    assert all(
        m["MessageAttributes"]["account"]["Value"] in (payments, "999999999999") for m in messages
    )


def test_unreadable_events_are_published_too_and_a_failed_publish_raises(org, topic, monkeypatch):
    topic_arn, received = topic
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    assert handler.handle(delivery("{not json")) == {"notified": 0, "unreadable": 1}
    (told,) = received()
    assert told["Subject"] == "[org-trail] Insights events that could not be read"
    assert "log event 36000000000000000000000000: JSONDecodeError" in told["Message"]
    monkeypatch.setenv("TOPIC_ARN", topic_arn.replace("org-trail-cis-alarms", "gone"))
    with pytest.raises(Exception, match="NotFound"):
        handler.handle(delivery("{not json"))
