"""The org-trail CrossGuard pack. Only assembles: the rules live in orgtrail_policies/."""

import gc

from orgtrail_policies.policies import policies
from pulumi_policy import EnforcementLevel, PolicyPack

# A pack is a long-lived server whose AnalyzeStack requests hold every resource of a
# stack, deserialized once per stack policy. With default thresholds the cyclic
# collector walks those objects over and over (benchmarks/policy_scale.py: 8.7 s
# for 5,000 buckets); collecting young objects rarely halves that.
gc.set_threshold(200_000, 20, 20)
PolicyPack(
    name="org-trail-guardrails",
    policies=policies(),
    enforcement_level=EnforcementLevel.ADVISORY,
    description="No public and no unlocked S3 bucket anywhere in the organisation.",
    provider="aws",
    tags=["s3", "cloudtrail", "object-lock"],
)
