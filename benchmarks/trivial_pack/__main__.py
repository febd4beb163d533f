"""The cheapest stack policies that still look at every resource: the benchmark's baseline.

TRIVIAL_POLICIES (default 1) sets how many such policies the pack holds: the
SDK deserializes the whole stack once per stack policy, so a baseline with as
many stack policies as the org-trail pack isolates the cost of its rules.
"""

import os

from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy


def read_every_resource(args, report_violation):
    for resource in args.resources:
        if resource.resource_type == "never":
            report_violation("unreachable")


PolicyPack(
    name="trivial",
    policies=[
        StackValidationPolicy(
            f"read-every-resource-{index}", "Reads every resource.", read_every_resource
        )
        for index in range(int(os.environ.get("TRIVIAL_POLICIES", "1")))
    ],
    enforcement_level=EnforcementLevel.ADVISORY,
)
