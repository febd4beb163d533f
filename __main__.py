"""org-trail: one project, two stacks.

`security` (security account): KMS key, the locked central log bucket and its
access-log bucket, and Athena over the logs.
`management` (organization management account): the organization trail, its
CloudWatch Logs delivery, CIS alarms, and archival of the legacy trails' buckets.
"""

import asyncio
import json
import os

import pulumi
import pulumi_aws as aws
from pulumi.runtime.config import CONFIG, get_config_env

from components.cis_alarms import TOPIC as CIS_TOPIC
from components.cis_alarms import CisAlarms, CisAlarmsArgs
from components.guardrails import Guardrails, GuardrailsArgs, refuse_lockouts
from components.legacy_trail_archive import LegacyTrailArchive, LegacyTrailArchiveArgs
from components.log_analysis import LogAnalysis, LogAnalysisArgs
from components.log_bucket import LogBucket, LogBucketArgs
from components.log_reader import LogReader, LogReaderArgs
from components.member_roles import MemberRoles, MemberRolesArgs
from components.organization_trail import OrganizationTrail, OrganizationTrailArgs
from components.trail_alerts import TrailAlerts, TrailAlertsArgs
from components.trail_key import TrailKey, TrailKeyArgs
from orgtrail.analysis.detections import description, detections, reports
from orgtrail.contract.config import (
    AWS_REGION_KEY,
    NAMESPACE,
    ConfigError,
    ManagementSettings,
    SecuritySettings,
    load_settings,
)
from orgtrail.contract.policy_documents import verify_workflow_policy
from orgtrail.contract.prerequisites import OrganizationState, missing_prerequisites
from orgtrail.project import PULUMI_CLI_VERSIONS, READ_ONLY_PREVIEW

# What the management stack needs from the security stack.
SECURITY_OUTPUTS = ("logBucketName", "accessLogBucketName", "kmsKeyArn", "authorizedTrailArn")


def configured_values() -> dict:
    """Every org-trail key the engine passed, so misspelt keys are reported, not ignored."""
    values = {**get_config_env(), **CONFIG.get()}
    return {k: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:") or k == AWS_REGION_KEY}


def require_account(expected: str, stack: str) -> None:
    """Refuse to deploy with credentials for the wrong account, before anything is created."""
    actual = aws.get_caller_identity().account_id
    if actual != expected:
        raise pulumi.RunError(
            f"the {stack} stack must run with credentials of account {expected}, "
            f"but the current credentials belong to {actual}"
        )


def security_stack(settings: SecuritySettings) -> None:
    org = settings.organization
    require_account(org.security_account_id, "security")
    key = TrailKey("trail-key", TrailKeyArgs(organization=org, alias=settings.kms_key_alias))
    logs = LogBucket(
        "trail-logs",
        LogBucketArgs(
            organization=org,
            bucket_name=settings.log_bucket_name,
            access_log_bucket_name=settings.access_log_bucket_name,
            kms_key_arn=key.arn,
            object_lock=settings.object_lock,
            archive=settings.lifecycle,
            other_logged_buckets=[settings.analysis.results_bucket_name],
        ),
    )
    analysis = LogAnalysis(
        "log-analysis",
        LogAnalysisArgs(
            organization=org,
            analysis=settings.analysis,
            log_bucket_name=settings.log_bucket_name,
            kms_key_arn=key.arn,
            access_log_bucket_name=logs.access_log_bucket_name,
            queries={
                name: (description(path), path.read_text())
                for name, path in {**detections(), **reports()}.items()
            },
        ),
    )
    if settings.log_reader_principal_arns:
        reader = LogReader(
            "log-reader",
            LogReaderArgs(
                organization=org,
                principals=settings.log_reader_principal_arns,
                buckets=[settings.log_bucket_name, settings.access_log_bucket_name],
                key_arn=key.arn,
            ),
        )
        pulumi.export("logReaderRoleArn", reader.arn)
    pulumi.export("logBucketName", logs.bucket_name)
    pulumi.export("logBucketArn", logs.arn)
    pulumi.export("accessLogBucketName", logs.access_log_bucket_name)
    pulumi.export("kmsKeyArn", key.arn)
    pulumi.export("authorizedTrailArn", org.trail_arn)
    pulumi.export("athenaWorkgroup", analysis.workgroup_name)
    pulumi.export("glueDatabase", analysis.database_name)


async def security_outputs(settings: ManagementSettings) -> dict[str, str]:
    """The security stack's outputs, awaited before any resource of this stack is registered."""
    name = settings.security_stack
    # A stack the backend does not have fails this read with the engine's own error, and
    # the program stops there: nothing of this stack has been registered yet.
    reference = pulumi.StackReference(name)
    found = await asyncio.gather(*(reference.get_output_details(o) for o in SECURITY_OUTPUTS))
    outputs = {}
    for output, details in zip(SECURITY_OUTPUTS, found, strict=True):
        value = details.value if details.value is not None else details.secret_value
        if value is None:
            raise pulumi.RunError(
                f"security stack {name!r} has no output {output!r}: "
                "run `pulumi up -s security` first (with the same trailName and account IDs)"
            )
        outputs[output] = value
    trail_arn = settings.organization.trail_arn
    if outputs["authorizedTrailArn"] != trail_arn:
        raise pulumi.RunError(
            f"the security stack authorises trail {outputs['authorizedTrailArn']}, but this stack would "
            f"create {trail_arn}: make organizationId, managementAccountId, trailName and aws:region "
            "the same in both stacks, then update the security stack first"
        )
    return outputs


def member_role_override(settings: ManagementSettings) -> str | None:
    """The read-only role for member accounts when a pull request's preview asks for it."""
    value = os.environ.get(READ_ONLY_PREVIEW, "")
    if value not in ("", "true", "false"):
        raise pulumi.RunError(f"{READ_ONLY_PREVIEW} is {value!r}: set it to true or false")
    if value != "true":
        return None
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(
            f"{READ_ONLY_PREVIEW}=true is for `pulumi preview` only: read-only roles cannot "
            "apply an update; unset it to deploy with each legacy trail's roleName"
        )
    if not settings.member_preview_role_name:
        raise pulumi.RunError(
            f"{READ_ONLY_PREVIEW}=true needs org-trail:memberPreviewRoleName, the read-only "
            'role in member accounts (docs/deploying.md, "Previews in pull requests")'
        )
    return settings.member_preview_role_name


def ready_organization(settings: ManagementSettings) -> OrganizationState:
    """The organisation as Organizations reports it; refuses before any resource when it is
    not ready for this stack, naming the command that fixes each gap."""
    state = OrganizationState.from_data_source(aws.organizations.get_organization())
    problems = missing_prerequisites(
        state, settings.organization, settings.guardrails, settings.member_roles.any_on
    )
    if problems:
        raise pulumi.RunError(
            "the organization is not ready for the management stack:\n  - "
            + "\n  - ".join(problems)
        )
    return state


async def management_stack(settings: ManagementSettings) -> None:
    org = settings.organization
    require_account(org.management_account_id, "management")
    role_override = member_role_override(settings)
    organization = ready_organization(settings)
    security = await security_outputs(settings)
    log_buckets = [security["logBucketName"], security["accessLogBucketName"]]
    guardrails = GuardrailsArgs(
        organization=org,
        settings=settings.guardrails,
        log_buckets=log_buckets,
        key_arn=security["kmsKeyArn"],
        root_id=organization.root_id,
    )
    # What can refuse comes first, before anything is registered: a guardrail that would lock
    # something out (evaluated), then a legacy bucket's own lifecycle rule that cannot be kept.
    if settings.guardrails.any_on:
        refuse_lockouts(guardrails)
    if settings.legacy_trails:
        archive = LegacyTrailArchive(
            "legacy-archive",
            LegacyTrailArchiveArgs(
                legacy_trails=settings.legacy_trails,
                archive=settings.legacy_archive,
                management_account_id=org.management_account_id,
                partition=org.partition,
                role_name_override=role_override,
            ),
        )
        await archive.keep_existing_rules()
    if settings.guardrails.any_on:
        Guardrails("guardrails", guardrails)
    if settings.member_roles.any_on:
        MemberRoles(
            "member-roles",
            MemberRolesArgs(
                organization=org,
                settings=settings.member_roles,
                preview_role_name=settings.member_preview_role_name,
                root_id=organization.root_id,
            ),
        )
    trail = OrganizationTrail(
        "organization-trail",
        OrganizationTrailArgs(
            organization=org,
            bucket_name=security["logBucketName"],
            kms_key_arn=security["kmsKeyArn"],
            data_events=settings.data_events,
            log_buckets=log_buckets,
            insights=settings.insights,
            log_retention_days=settings.log_retention_days,
            log_group_kms_key_arn=settings.log_group_kms_key_arn,
        ),
    )
    alarms = CisAlarms(
        "cis-alarms",
        CisAlarmsArgs(
            organization=org, log_group_name=trail.log_group_name, alarms=settings.alarms
        ),
    )
    TrailAlerts(
        "trail-alerts",
        TrailAlertsArgs(
            organization=org,
            alarms=settings.alarms,
            insights=settings.insights,
            log_group_name=trail.log_group_name,
            log_group_arn=trail.log_group_arn,
            topic=CIS_TOPIC,
            topic_arn=alarms.topic_arn,
            topic_key_arn=alarms.key_arn,
            log_retention_days=settings.log_retention_days,
        ),
    )
    pulumi.export("trailArn", trail.arn)
    pulumi.export("logGroupArn", trail.log_group_arn)
    pulumi.export("alarmTopicArn", alarms.topic_arn)
    # For the scheduled verify workflow's role (docs/operator-cli.md, "Scheduled verify").
    pulumi.export(
        "verifyWorkflowPolicy",
        alarms.key_arn.apply(lambda key: json.dumps(verify_workflow_policy(org, CIS_TOPIC, key))),
    )


pulumi.require_pulumi_version(PULUMI_CLI_VERSIONS)
try:
    stack_settings = load_settings(configured_values(), pulumi.get_stack())
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

if isinstance(stack_settings, SecuritySettings):
    security_stack(stack_settings)
else:
    # The public entry point for a program that awaits: the stack reference is read first.
    pulumi.run(lambda: management_stack(stack_settings))
