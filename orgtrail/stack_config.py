"""Read a stack's config the way the Pulumi CLI assembles it: project defaults, then the stack file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orgtrail.config import NAMESPACE, config_key, to_engine_value


class StackConfigError(ValueError):
    pass


def _namespaced(key: str) -> str:
    return key if ":" in key else config_key(key)


def project_defaults(project_dir: Path) -> dict[str, Any]:
    """Config defaults declared in Pulumi.yaml (`default:` of a typed key, or `value:`)."""
    path = project_dir / "Pulumi.yaml"
    project = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    defaults = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and ("default" in declaration or "value" in declaration):
            defaults[_namespaced(key)] = declaration.get("value", declaration.get("default"))
        elif not isinstance(declaration, dict):
            defaults[_namespaced(key)] = declaration
    return defaults


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_config(project_dir: Path, stack: str) -> dict[str, str]:
    """The config the engine would pass to the program for `stack`, as engine strings."""
    path = stack_file(project_dir, stack)
    if not path.exists():
        raise StackConfigError(f"{path} does not exist: create it with `pulumi stack init {stack}`")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise StackConfigError(f"{path} is not valid YAML: {err}") from None
    values = dict(project_defaults(project_dir))
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            if key.startswith(f"{NAMESPACE}:"):
                raise StackConfigError(
                    f"{path}: {key} is encrypted; the offline plan cannot read secrets"
                )
            continue
        values[key] = value
    return {key: to_engine_value(value) for key, value in values.items() if value is not None}
