"""Athena analysis in the security stack, CIS alarms in the management stack (program under mocks)."""

import pytest

from components.cis_alarms import METRIC_FILTERS, metric_name
from components.log_analysis import CLOUDTRAIL_SERDE, DATABASE
from orgtrail.analysis.cloudtrail_schema import COLUMNS, INSIGHTS_TABLE, TABLE
from orgtrail.analysis.detections import detections, reports
from orgtrail.contract.config import COMMERCIAL_REGIONS, ConfigError, load_settings
from orgtrail.policy_eval import ALLOW, IMPLICIT_DENY, Request, evaluate
from tests.support.stacks import (
    LOG_BUCKET,
    MANAGEMENT_ACCOUNT,
    MEMBER_ACCOUNT,
    ORGANIZATION_ID,
    SECURITY_ACCOUNT,
    management_config,
    part_of_bucket,
    policy_of,
    run_management,
    run_security,
    security_config,
)

RESULTS_BUCKET = f"org-trail-athena-results-{SECURITY_ACCOUNT}-us-east-1"


def test_glue_table_reads_the_organisation_prefix_with_the_cloudtrail_serde(security):
    table = security.one("aws:glue/catalogTable:CatalogTable", "log-analysis-table")
    assert table.inputs["name"] == TABLE
    assert table.inputs["databaseName"] == DATABASE
    storage = table.inputs["storageDescriptor"]
    assert storage["location"] == f"s3://{LOG_BUCKET}/AWSLogs/{ORGANIZATION_ID}/"
    assert storage["serDeInfo"]["serializationLibrary"] == CLOUDTRAIL_SERDE
    assert storage["inputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert [c["name"] for c in storage["columns"]] == [c.name for c in COLUMNS]
    identity = next(c for c in storage["columns"] if c["name"] == "useridentity")
    assert identity["type"].startswith("struct<type:string,principalid:string,arn:string")


def test_partition_projection_needs_no_crawler(security):
    parameters = security.one("aws:glue/catalogTable:CatalogTable", "log-analysis-table").inputs[
        "parameters"
    ]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.account.values"] == f"{MANAGEMENT_ACCOUNT},{SECURITY_ACCOUNT}"
    assert parameters["projection.region.values"] == ",".join(COMMERCIAL_REGIONS)
    assert parameters["projection.day.type"] == "date"
    assert parameters["projection.day.range"] == "2024/01/01,NOW"
    assert parameters["projection.day.format"] == "yyyy/MM/dd"
    assert parameters["storage.location.template"] == (
        f"s3://{LOG_BUCKET}/AWSLogs/{ORGANIZATION_ID}/${{account}}/CloudTrail/${{region}}/${{day}}"
    )


def test_projected_accounts_and_regions_come_from_config():
    analysis = {
        "accountIds": [MEMBER_ACCOUNT, SECURITY_ACCOUNT],
        "regions": ["eu-west-1"],
        "startDate": "2026/01/01",
    }
    parameters = (
        run_security(security_config(analysis=analysis))
        .one("aws:glue/catalogTable:CatalogTable", "log-analysis-table")
        .inputs["parameters"]
    )
    assert parameters["projection.account.values"] == f"{MEMBER_ACCOUNT},{SECURITY_ACCOUNT}"
    assert parameters["projection.region.values"] == "eu-west-1"
    assert parameters["projection.day.range"] == "2026/01/01,NOW"


def test_workgroup_enforces_encrypted_results_in_the_results_bucket(security):
    workgroup = security.one("aws:athena/workgroup:Workgroup")
    configuration = workgroup.inputs["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    results = configuration["resultConfiguration"]
    assert results["outputLocation"] == f"s3://{RESULTS_BUCKET}/"
    assert results["encryptionConfiguration"] == {
        "encryptionOption": "SSE_KMS",
        "kmsKeyArn": security.exports["kmsKeyArn"],
    }
    assert security.exports["athenaWorkgroup"] == "org-trail"


def test_results_bucket_is_locked_encrypted_private_and_expires(security):
    (bucket,) = part_of_bucket(security, RESULTS_BUCKET, "aws:s3/bucket:Bucket")
    assert bucket.inputs["objectLockEnabled"] is True
    (block,) = part_of_bucket(
        security, RESULTS_BUCKET, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    )
    assert all(
        block.inputs[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (encryption,) = part_of_bucket(
        security,
        RESULTS_BUCKET,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert (
        encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        == "aws:kms"
    )
    (lifecycle,) = part_of_bucket(
        security, RESULTS_BUCKET, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    (rule,) = lifecycle.inputs["rules"]
    assert rule["expiration"] == {"days": 30}
    (lock,) = part_of_bucket(
        security,
        RESULTS_BUCKET,
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    )
    assert lock.inputs["rule"]["defaultRetention"]["days"] < rule["expiration"]["days"]


def test_one_named_query_per_detection_and_report_with_the_files_sql(security):
    queries = {
        q.inputs["name"]: q.inputs for q in security.of_type("aws:athena/namedQuery:NamedQuery")
    }
    files = {**detections(), **reports()}
    assert {"insights", "insights-open", "insights-by-account-source"} <= set(files)
    assert set(queries) == set(files)
    for name, path in files.items():
        assert queries[name]["query"] == path.read_text()
        assert queries[name]["database"] == DATABASE
        assert queries[name]["workgroup"] == "org-trail"


# --- CIS alarms ---------------------------------------------------------------------------------


def test_a_metric_filter_and_alarm_per_detection_on_the_trails_log_group(management):
    group = management.one("aws:cloudwatch/logGroup:LogGroup", "organization-trail-log-group")
    filters = {
        f.inputs["name"]: f.inputs
        for f in management.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    alarms = {
        a.inputs["name"]: a
        for a in management.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["namespace"] == "OrgTrail/CIS"
    }
    topic = management.one("aws:sns/topic:Topic")
    assert set(filters) == set(alarms) == {f"org-trail-{name}" for name in METRIC_FILTERS}
    for name, pattern in METRIC_FILTERS.items():
        metric_filter, alarm = filters[f"org-trail-{name}"], alarms[f"org-trail-{name}"]
        assert metric_filter["logGroupName"] == group.inputs["name"]
        assert metric_filter["pattern"] == pattern
        assert metric_filter["metricTransformation"] == {
            "name": metric_name(name),
            "namespace": "OrgTrail/CIS",
            "value": "1",
        }
        assert alarm.inputs["metricName"] == metric_name(name)
        assert alarm.inputs["threshold"] == 1
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert management.exports["alarmTopicArn"] == topic.outputs["arn"]


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(management):
    topic = management.one("aws:sns/topic:Topic")
    key = next(k for k in management.of_type("aws:kms/key:Key") if k.name.startswith("cis-alarms"))
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    use = Request(
        "kms:GenerateDataKey",
        "*",
        service="cloudwatch.amazonaws.com",
        context={"aws:SourceAccount": MANAGEMENT_ACCOUNT},
    )
    assert evaluate(policy_of(key), use) == ALLOW
    foreign = Request(
        "kms:Decrypt",
        "*",
        service="cloudwatch.amazonaws.com",
        context={"aws:SourceAccount": MEMBER_ACCOUNT},
    )
    assert evaluate(policy_of(key), foreign) == IMPLICIT_DENY


def test_only_this_accounts_alarms_may_publish(management):
    policy = policy_of(management.one("aws:sns/topicPolicy:TopicPolicy"))
    topic = management.one("aws:sns/topic:Topic").outputs["arn"]

    def publish(account: str) -> str:
        context = {
            "aws:SecureTransport": "true",
            "aws:SourceAccount": account,
            "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{account}:alarm:org-trail-vpc-changes",
        }
        return evaluate(
            policy,
            Request("sns:Publish", topic, service="cloudwatch.amazonaws.com", context=context),
        )

    assert publish(MANAGEMENT_ACCOUNT) == ALLOW
    assert publish(MEMBER_ACCOUNT) == IMPLICIT_DENY


def test_subscriptions_come_from_config():
    alarms = {
        "subscriptions": [
            {"protocol": "email", "endpoint": "soc@example.com"},
            {"protocol": "https", "endpoint": "https://hooks.example.com/aws"},
        ]
    }
    sim = run_management(management_config(alarms=alarms))
    subscriptions = [
        (s.inputs["protocol"], s.inputs["endpoint"])
        for s in sim.of_type("aws:sns/topicSubscription:TopicSubscription")
    ]
    assert sorted(subscriptions) == [
        ("email", "soc@example.com"),
        ("https", "https://hooks.example.com/aws"),
    ]


@pytest.mark.parametrize(
    ("stack", "key", "value", "problem_key", "message"),
    [
        (
            "security",
            "analysis",
            {"accountIds": ["12"]},
            "org-trail:analysis.accountIds[0]",
            "12-digit",
        ),
        (
            "security",
            "analysis",
            {"regions": ["moon-1"]},
            "org-trail:analysis.regions[0]",
            "not an AWS region",
        ),
        (
            "security",
            "analysis",
            {"startDate": "2024-01-01"},
            "org-trail:analysis.startDate",
            "YYYY/MM/DD",
        ),
        (
            "security",
            "analysis",
            {"resultsBucketName": LOG_BUCKET},
            "org-trail:analysis.resultsBucketName",
            "must differ",
        ),
        (
            "management",
            "alarms",
            {"subscriptions": [{"protocol": "http", "endpoint": "http://x"}]},
            "org-trail:alarms.subscriptions[0].protocol",
            "https",
        ),
        (
            "management",
            "alarms",
            {"subscriptions": [{"protocol": "email", "endpoint": "nobody"}]},
            "org-trail:alarms.subscriptions[0].endpoint",
            "email address",
        ),
        (
            "management",
            "alarms",
            {"namespace": "AWS/Logs"},
            "org-trail:alarms.namespace",
            "custom CloudWatch namespace",
        ),
    ],
)
def test_analysis_and_alarm_settings_are_validated(stack, key, value, problem_key, message):
    config = (security_config if stack == "security" else management_config)(**{key: value})
    with pytest.raises(ConfigError) as caught:
        load_settings(config, stack)
    problems = dict(caught.value.problems)
    assert message in problems[problem_key]


def test_exports_name_the_athena_database(security):
    assert (
        security.exports["glueDatabase"]
        == security.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"]
    )


def test_an_insights_table_reads_the_insight_folders_with_the_json_serde(security):
    table = security.one("aws:glue/catalogTable:CatalogTable", "log-analysis-insights-table")
    assert table.inputs["name"] == INSIGHTS_TABLE
    storage = table.inputs["storageDescriptor"]
    assert storage["serDeInfo"]["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert storage["inputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    (records,) = storage["columns"]
    assert records["name"] == "records" and records["type"].startswith(
        "array<struct<eventversion:string,eventtime:string,awsregion:string,eventid:string,"
    )
    assert (
        "insightdetails:struct<state:string,eventsource:string,eventname:string," in records["type"]
    )
    assert (
        "statistics:struct<baseline:struct<average:double>,insight:struct<average:double>,"
        in (records["type"])
    )
    parameters = table.inputs["parameters"]
    assert parameters["storage.location.template"] == (
        f"s3://{LOG_BUCKET}/AWSLogs/{ORGANIZATION_ID}/${{account}}/CloudTrail-Insight/${{region}}/${{day}}"
    )
    events = security.one("aws:glue/catalogTable:CatalogTable", "log-analysis-table")
    projected = {k: v for k, v in parameters.items() if k.startswith("projection.")}
    assert projected == {
        k: v for k, v in events.inputs["parameters"].items() if k.startswith("projection.")
    }
