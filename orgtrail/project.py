"""Where the org-trail Pulumi project is: the directory holding Pulumi.yaml, the program
(`__main__.py`, `components/`), the stack files and the policy pack (`policies/`).

`orgtrail plan` runs that program, so it needs the project as the Pulumi CLI does: it
searches the working directory and then each parent for `Pulumi.yaml`, `Pulumi.yml` or
`Pulumi.json` and takes the first found (pulumi/pulumi 1b594989,
sdk/go/common/workspace/paths.go, DetectProjectPathFrom and findProjectInDir). `-C/--cwd`
starts the search elsewhere, as `pulumi -C DIR` does. The installed commands that only read
a stack file (cutover, verify) do not need the project.
"""

from __future__ import annotations

from pathlib import Path

import yaml

NAME = "org-trail"
PROJECT_FILES = ("Pulumi.json", "Pulumi.yml", "Pulumi.yaml")  # the CLI's encoding.Exts order
# The oldest CLI that reads Pulumi.yaml's `type: object` declarations (pulumi/pulumi#20132,
# July 2025). An older CLI stops earlier, on Pulumi.yaml itself; the program names the range.
PULUMI_CLI_VERSIONS = ">=3.187.0"
# Set by the pull-request workflow alone (.github/workflows/preview.yml). `pulumi up` runs a
# preview of its own before it asks for confirmation, so `is_dry_run()` cannot tell a pull
# request's read-only preview from the deployer's: the deployer's roles are the default.
READ_ONLY_PREVIEW = "ORG_TRAIL_READ_ONLY_PREVIEW"
# The checkout this package was loaded from (running from it, or `pip install -e .`); an
# installed copy has no Pulumi.yaml beside it.
CHECKOUT = Path(__file__).resolve().parent.parent


class ProjectNotFound(Exception):
    pass


def find_project(start: Path) -> Path:
    """The org-trail project directory at or above `start`, or ProjectNotFound saying why."""
    start = start.resolve()
    for directory in (start, *start.parents):
        found = [directory / name for name in PROJECT_FILES if (directory / name).is_file()]
        if not found:
            continue
        if found[0].name != "Pulumi.yaml":
            raise ProjectNotFound(
                f"{found[0]} is the project file the Pulumi CLI would use; "
                "org-trail reads its project from Pulumi.yaml"
            )
        try:
            name = (yaml.safe_load(found[0].read_text()) or {}).get("name")
        except (yaml.YAMLError, AttributeError):
            raise ProjectNotFound(f"{found[0]} is not a YAML mapping") from None
        if name != NAME:
            raise ProjectNotFound(
                f"{found[0]} is the Pulumi project {name!r}, not {NAME!r}: "
                "run from the org-trail checkout or pass -C DIR"
            )
        return directory
    raise ProjectNotFound(
        f"no Pulumi.yaml found searching upwards from {start}: "
        "run from the org-trail checkout or pass -C DIR"
    )
