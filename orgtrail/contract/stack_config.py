"""Read a stack's config the way the Pulumi CLI assembles it, refusing what the CLI refuses.

Ported from the Pulumi CLI (pulumi/pulumi, August 2026):
- `sdk/go/common/workspace/project.go`, `Project.Validate`: the project file's
  config declarations;
- `pkg/workspace/config.go`, `mergeConfig` / `ValidateConfigValue`: each stack
  file merged with the project's declarations (missing keys, types).
The messages are the CLI's own, so what `orgtrail plan` says is what
`pulumi preview` would say, before any credentials are needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from orgtrail.contract.config import NAMESPACE, Settings, load_settings, to_engine_value
from orgtrail.contract.derived import pulumi_declarations
from orgtrail.project import NAME

CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
# A stack file kept outside the project (cutover --stack-config) is read with this project's file.


class StackConfigError(ValueError):
    pass


def _namespaced_by_project(project: str, key: str) -> bool:
    return ":" not in key or key.startswith(f"{project}:")


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _type_name(type_name: str, items: dict | None) -> str:
    # InferFullTypeName
    if items:
        return f"array<{_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


def valid_config_value(type_name: str, items: dict | None, value: Any) -> bool:
    """ValidateConfigValue: integers may be digit strings, booleans "true"/"false"."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        if isinstance(value, str):
            try:
                int(value, 10)
            except ValueError:
                return False
            return True
        return False
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(
        valid_config_value(items.get("type", ""), items.get("items"), item) for item in value
    )


def project_problems(project: dict) -> list[str]:
    """Project.Validate, plus the schema's `type` enum: what makes the CLI refuse Pulumi.yaml."""
    problems = []
    if not project.get("name"):
        problems.append("project is missing a 'name' attribute")
    runtime = project.get("runtime")
    if not (runtime.get("name") if isinstance(runtime, dict) else runtime):
        problems.append("project is missing a 'runtime' attribute")
    name = str(project.get("name", ""))
    for key, declaration in (project.get("config") or {}).items():
        if not isinstance(declaration, dict):
            continue  # a plain value: shorthand for `value:`
        typed = "type" in declaration
        if "default" in declaration and "value" in declaration:
            problems.append(
                f"project config '{key}' cannot have both a 'default' and 'value' attribute"
            )
        if typed and declaration["type"] not in CONFIG_TYPES:
            problems.append(
                f"The configuration key '{key}' has type {declaration['type']!r}; "
                f"the CLI accepts {', '.join(CONFIG_TYPES)}"
            )
            continue
        if _namespaced_by_project(name, key):
            if typed and declaration["type"] == "array" and not declaration.get("items"):
                problems.append(
                    f"The configuration key '{key}' declares an array but does not specify the "
                    "underlying type via the 'items' attribute"
                )
            elif (
                typed
                and "default" in declaration
                and not valid_config_value(
                    declaration["type"], declaration.get("items"), declaration["default"]
                )
            ):
                problems.append(
                    f"The default value specified for configuration key '{key}' is not of the "
                    f"expected type '{_type_name(declaration['type'], declaration.get('items'))}'"
                )
        elif typed:
            problems.append(
                f"Configuration key '{key}' is not namespaced by the project and should not define a type"
            )
        elif "default" in declaration:
            problems.append(
                f"Configuration key '{key}' is not namespaced by the project and should not define "
                "a default value. Did you mean to use the 'value' attribute instead of 'default'?"
            )
        elif "value" not in declaration:
            problems.append(
                f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
            )
    return problems


def _stack_value(value: Any) -> Any:
    """A stack file scalar is kept as text (`fmt.Sprintf("%v")`); objects and arrays as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value))
    return str(value)


def _missing_keys_error(stack: str, keys: list[str]) -> str:
    # missingStackConfigurationKeysError / formatMissingKeys
    keys = sorted(keys)
    quoted = [f"'{key}'" for key in keys]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    return f"Stack '{stack}' is missing configuration value{'s' if len(keys) > 1 else ''} {listed}"


def merge_stack_config(project: dict, stack: str, stack_config: dict[str, Any]) -> dict[str, Any]:
    """mergeConfig: the stack's values, the project's values and defaults; refused as the CLI does."""
    name = str(project.get("name", ""))
    merged = {_full_key(name, key): value for key, value in stack_config.items()}
    missing, wrong = [], []
    for key, declaration in sorted((project.get("config") or {}).items()):
        full = _full_key(name, key)
        if not isinstance(declaration, dict):
            merged.setdefault(full, declaration)
            continue
        if full in merged:
            value = merged[full]
            secure = isinstance(value, dict) and set(value) == {"secure"}
            if (
                "type" in declaration
                and not secure
                and not valid_config_value(
                    declaration["type"], declaration.get("items"), _stack_value(value)
                )
            ):
                wrong.append(
                    f"Stack '{stack}' with configuration key '{key}' must be of type "
                    f"'{_type_name(declaration['type'], declaration.get('items'))}'"
                )
        elif "value" in declaration:
            merged[full] = declaration["value"]
        elif "default" in declaration:
            merged[full] = declaration["default"]
        elif _namespaced_by_project(name, key):
            missing.append(key)
    problems = wrong + ([_missing_keys_error(stack, missing)] if missing else [])
    if problems:
        raise StackConfigError("\n".join(problems))
    return merged


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise StackConfigError(f"{path} is not valid YAML: {err}") from None


def read_project(project_dir: Path) -> dict:
    path = project_dir / "Pulumi.yaml"
    if not path.exists():
        # A stack file copied out of the checkout (or an installed orgtrail): the project's
        # declarations are the ones the config model derives, which Pulumi.yaml holds too.
        return {"name": NAME, "runtime": "python", "config": pulumi_declarations()}
    project = _load_yaml(path)
    if not isinstance(project, dict):
        raise StackConfigError(f"{path} must be a mapping")
    problems = project_problems(project)
    if problems:
        raise StackConfigError(f"could not unmarshal '{path}': " + "; ".join(problems))
    return project


def read_stack_config(project_dir: Path, stack: str) -> dict[str, str]:
    """The config the engine would pass to the program for `stack`, as engine strings."""
    path = stack_file(project_dir, stack)
    if not path.exists():
        raise StackConfigError(f"{path} does not exist: create it with `pulumi stack init {stack}`")
    project = read_project(project_dir)
    document = _load_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackConfigError(f"{path}: `config` must be a mapping of keys to values")
    values = merge_stack_config(project, stack, document.get("config") or {})
    for key, value in values.items():
        if isinstance(value, dict) and "secure" in value and key.startswith(f"{NAMESPACE}:"):
            raise StackConfigError(
                f"{path}: {key} is encrypted; the offline plan cannot read secrets"
            )
    return {
        key: to_engine_value(value)
        for key, value in values.items()
        if value is not None and not (isinstance(value, dict) and "secure" in value)
    }


def load_stack_settings(path: Path) -> Settings:
    """A stack's settings from its Pulumi.<stack>.yaml (with Pulumi.yaml defaults beside it)."""
    name = path.name
    # Only .yaml: what is read is Pulumi.<stack>.yaml beside it (stack_file), the name this
    # project's stack files have; a .yml name would have had another file read.
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")) or name == "Pulumi.yaml":
        raise StackConfigError(
            f"{path} is not named as a stack config file: Pulumi.<stack>.yaml, the name the "
            "stack is read from (Pulumi.yaml is the project file)"
        )
    if path.is_dir():
        raise StackConfigError(f"{path} is a directory, not a stack config file")
    if not path.exists():
        raise StackConfigError(f"{path}: no such file")
    stack = name.removeprefix("Pulumi.").removesuffix(".yaml")
    return load_settings(read_stack_config(path.parent, stack), stack)
