"""The pack's policies as the CLI lists them: names and levels as docs/policy-pack.md documents them,
the description shown above each violation, and exemptions configurable on every rule."""

import re
from pathlib import Path

from orgtrail_policies.policies import policies
from pulumi_policy import StackValidationPolicy

POLICY_DOC = Path(__file__).resolve().parent.parent / "docs" / "policy-pack.md"
DESCRIPTIONS = {
    "s3-bucket-object-lock-enabled": "Every S3 bucket is created with Object Lock enabled, so what "
    "it stores can be made tamper-proof (server access log targets excepted: S3 cannot deliver "
    "to them).",
    "s3-no-public-bucket": "No S3 bucket, object or access point is public: no public ACL or "
    "grant, no policy open to everyone unless limited to fixed values of the keys S3 "
    "recognises, every public access block complete.",
    "s3-bucket-public-access-block": "Every S3 bucket has a public access block of its own (or an "
    "account-level one).",
    "s3-bucket-acls-disabled": "S3 buckets keep ACLs disabled (object ownership "
    "BucketOwnerEnforced).",
    "s3-bucket-default-retention": "S3 buckets lock objects by default (Object Lock default "
    "retention).",
    "s3-bucket-kms-encryption": "S3 buckets encrypt with SSE-KMS by default.",
    "s3-bucket-versioning": "S3 buckets keep every version of every object.",
    "s3-bucket-tls-only": "S3 bucket policies deny requests that do not use TLS.",
    "cloudtrail-trail-essentials": "CloudTrail trails log every region, validate log files and "
    "encrypt with a customer key.",
    "exemptions-applied": "Resources exempted from an org-trail policy, and why.",
}


def documented_levels() -> dict[str, str]:
    section = POLICY_DOC.read_text().split("# The CrossGuard policy pack", 1)[1]
    return dict(re.findall(r"^\| `([a-z0-9-]+)` \| (mandatory|advisory) \|", section, re.M))


def test_names_and_levels_are_the_documented_ones():
    assert {p.name: p.enforcement_level.value for p in policies()} == documented_levels()


def test_each_policy_says_what_it_checks():
    assert {p.name: p.description for p in policies()} == DESCRIPTIONS


def test_every_rule_takes_exemptions_and_the_report_runs_last():
    *rules, report = policies()
    assert report.name == "exemptions-applied"
    assert isinstance(report, StackValidationPolicy)
    for rule in rules:
        assert "exemptions" in rule.config_schema.properties, rule.name
