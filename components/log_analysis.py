"""LogAnalysis: Athena over the organization trail's logs, where they lie.

A Glue table with the CloudTrail SerDe and partition projection (account,
region, day), so new days need no crawler and no MSCK REPAIR, and one over the Insights
files beside it; a function that adds every account that delivers to both tables'
account projection each hour (functions/account_projection/handler.py says why); an Athena
workgroup whose enforced settings write results, encrypted with the trail
key, to a locked private bucket that expires them; one named query per
detection and report in orgtrail/analysis/queries/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.private_bucket import PrivateBucket, PrivateBucketArgs
from components.python_function import python_function
from orgtrail.analysis.cloudtrail_schema import (
    ACCOUNT_PROJECTION,
    COLUMNS,
    DATABASE,
    INSIGHT_COLUMNS,
    INSIGHTS_TABLE,
    PARTITIONS,
    TABLE,
    WORKGROUP,
    Column,
)
from orgtrail.contract.config import Analysis, ObjectLock, Organization
from orgtrail.contract.policy_documents import (
    PROJECTION_KEEPER,
    projection_keeper_policy,
    projection_keeper_trust_policy,
    results_bucket_policy,
)

CLOUDTRAIL_SERDE = "com.amazon.emr.hive.serde.CloudTrailSerde"
CLOUDTRAIL_INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
HIVE_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
INSIGHT_FOLDER = "CloudTrail-Insight"  # "Delivery of Insights events", CloudTrail User Guide
# Results stay locked a day (no one rewrites an answer), then expire by lifecycle.
RESULTS_RETENTION = ObjectLock(mode="GOVERNANCE", days=1)
KEEPER = Path(__file__).resolve().parent.parent / "functions" / "account_projection" / "handler.py"
KEEPER_SCHEDULE = "rate(1 hour)"
KEEPER_LOG_RETENTION_DAYS = 90


def location_template(bucket: str, organization_id: str, folder: str = "CloudTrail") -> str:
    """Where the trail writes one account's files of one kind (CloudTrail, CloudTrail-Insight)
    for one region and day (Athena fills the ${...})."""
    account, region, day = (f"${{{p}}}" for p in PARTITIONS)
    return f"s3://{bucket}/AWSLogs/{organization_id}/{account}/{folder}/{region}/{day}"


def projection(
    analysis: Analysis, bucket: str, organization_id: str, folder: str = "CloudTrail"
) -> dict[str, str]:
    account, region, day = PARTITIONS
    return {
        "projection.enabled": "true",
        f"projection.{account}.type": "enum",
        ACCOUNT_PROJECTION: ",".join(analysis.account_ids),
        f"projection.{region}.type": "enum",
        f"projection.{region}.values": ",".join(analysis.regions),
        f"projection.{day}.type": "date",
        f"projection.{day}.format": "yyyy/MM/dd",
        f"projection.{day}.range": f"{analysis.start_date},NOW",
        f"projection.{day}.interval": "1",
        f"projection.{day}.interval.unit": "DAYS",
        "storage.location.template": location_template(bucket, organization_id, folder),
    }


@dataclass
class LogAnalysisArgs:
    organization: Organization
    analysis: Analysis
    log_bucket_name: str
    kms_key_arn: pulumi.Input[str]
    # Where the results bucket's server access logs go (CIS S3 server access logging).
    access_log_bucket_name: pulumi.Input[str]
    queries: Mapping[str, tuple[str, str]]  # name -> (description, Athena SQL)


@dataclass(frozen=True)
class TableFormat:
    classification: str
    input_format: str
    serde: str
    columns: tuple[Column, ...]


class LogAnalysis(pulumi.ComponentResource):
    workgroup_name: pulumi.Output[str]
    database_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: LogAnalysisArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("org-trail:log_analysis:LogAnalysis", name, None, opts)
        org = args.organization
        results = PrivateBucket(
            f"{name}-results",
            PrivateBucketArgs(
                bucket_name=args.analysis.results_bucket_name,
                policy=results_bucket_policy(org, args.analysis.results_bucket_name),
                kms_key_arn=args.kms_key_arn,
                retention=RESULTS_RETENTION,
                expire_after_days=args.analysis.result_expiration_days,
                access_log_bucket=args.access_log_bucket_name,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=DATABASE,
            description=f"CloudTrail logs of organization {org.organization_id}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        events = TableFormat("cloudtrail", CLOUDTRAIL_INPUT_FORMAT, CLOUDTRAIL_SERDE, COLUMNS)
        self._table(f"{name}-table", TABLE, events, "CloudTrail", args, database)
        # Insights files hold one JSON document each, {"Records": [...]}: the OpenX JSON SerDe
        # reads it into one column, `records`, that the queries unnest (Athena User Guide,
        # "OpenX JSON SerDe"; case-insensitive by default, so eventTime reads as eventtime).
        insights = TableFormat("json", TEXT_INPUT_FORMAT, JSON_SERDE, INSIGHT_COLUMNS)
        self._table(
            f"{name}-insights-table", INSIGHTS_TABLE, insights, INSIGHT_FOLDER, args, database
        )
        self._projection_keeper(name, args, database)
        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=WORKGROUP,
            description="Queries over the organization trail; results encrypted, locked a day, then expired",
            force_destroy=False,
            configuration={
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", results.bucket_name, "/"),
                    "encryption_configuration": {
                        "encryption_option": "SSE_KMS",
                        "kms_key_arn": args.kms_key_arn,
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        for query_name, (description, sql) in args.queries.items():
            aws.athena.NamedQuery(
                f"{name}-{query_name}",
                name=query_name,
                description=description,
                database=database.name,
                workgroup=workgroup.name,
                query=sql,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.workgroup_name = workgroup.name
        self.database_name = database.name
        self.register_outputs(
            {"workgroupName": self.workgroup_name, "databaseName": self.database_name}
        )

    def _table(
        self,
        resource_name: str,
        table: str,
        layout: TableFormat,
        folder: str,
        args: LogAnalysisArgs,
        database: aws.glue.CatalogDatabase,
    ) -> aws.glue.CatalogTable:
        """A Glue table over one kind of the trail's files, partitions projected."""
        org = args.organization
        return aws.glue.CatalogTable(
            resource_name,
            name=table,
            database_name=database.name,
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": layout.classification,
                "EXTERNAL": "TRUE",
                **projection(args.analysis, args.log_bucket_name, org.organization_id, folder),
            },
            partition_keys=[{"name": partition, "type": "string"} for partition in PARTITIONS],
            storage_descriptor={
                "location": f"s3://{args.log_bucket_name}/AWSLogs/{org.organization_id}/",
                "input_format": layout.input_format,
                "output_format": HIVE_OUTPUT_FORMAT,
                "ser_de_info": {"serialization_library": layout.serde},
                "columns": [{"name": c.name, "type": c.hive_type()} for c in layout.columns],
            },
            # The keeper function adds accounts as they join: an update must not take them away.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=[f'parameters["{ACCOUNT_PROJECTION}"]']
            ),
        )

    def _projection_keeper(
        self, name: str, args: LogAnalysisArgs, database: aws.glue.CatalogDatabase
    ) -> None:
        """The function that keeps both tables' account projection equal to the accounts
        that deliver, run every hour."""
        org = args.organization
        child = pulumi.ResourceOptions(parent=self)
        tables = (TABLE, INSIGHTS_TABLE)
        function = python_function(
            f"{name}-keeper",
            parent=self,
            function_name=PROJECTION_KEEPER,
            description="Adds every account that delivers to the Athena tables' account projection",
            handler=KEEPER,
            trust_policy=json.dumps(projection_keeper_trust_policy(org)),
            policy=json.dumps(
                projection_keeper_policy(org, args.log_bucket_name, DATABASE, tables)
            ),
            environment={
                "BUCKET": args.log_bucket_name,
                "ORGANIZATION_ID": org.organization_id,
                "DATABASE": database.name,
                "TABLES": ",".join(tables),
            },
            timeout=120,
            log_retention_days=KEEPER_LOG_RETENTION_DAYS,
        )
        schedule = aws.cloudwatch.EventRule(
            f"{name}-keeper-schedule",
            name=PROJECTION_KEEPER,
            description="Every hour: new accounts into the Athena tables' account projection",
            schedule_expression=KEEPER_SCHEDULE,
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-keeper-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_account=org.security_account_id,
            source_arn=schedule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-keeper-target",
            rule=schedule.name,
            arn=function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
