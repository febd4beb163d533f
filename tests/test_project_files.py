"""Pulumi.yaml, the stack files, the configuration reference (docs/configuration.md) and the editor schema agree with the model,
and pass the Pulumi CLI's own rules (ported in orgtrail.contract.stack_config)."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from orgtrail.contract.config import (
    ManagementSettings,
    SecuritySettings,
    load_settings,
    to_engine_value,
)
from orgtrail.contract.derived import (
    PROJECT_NOTE,
    REFERENCE_PATH,
    ROLES_PATH,
    SCHEMA_PATH,
    _type_of,
    editor_schema,
    generated_files,
    rendered_project,
)
from orgtrail.contract.derived import main as contract_main
from orgtrail.contract.outputs import DOCUMENTS
from orgtrail.contract.stack_config import (
    StackConfigError,
    merge_stack_config,
    project_problems,
    read_stack_config,
)
from orgtrail.offline.simulate import PROJECT_DIR

PROJECT = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
# The CLI's own project schema, kept beside the repository (shared/pulumi-cli); data only.
CLI_SCHEMA = PROJECT_DIR.parent / "shared" / "pulumi-cli" / "project.schema.json"
MINIMAL = {
    "security": {
        "aws:region": "us-east-1",
        "org-trail:organizationId": "o-a1b2c3d4e5",
        "org-trail:managementAccountId": "111111111111",
        "org-trail:securityAccountId": "222222222222",
    },
}
MINIMAL["management"] = {
    **MINIMAL["security"],
    "org-trail:securityStack": "acme/org-trail/security",
    # Needed while protectLogPipeline is on (the README's minimal file has it).
    "org-trail:guardrails": {"exemptRoleArns": ["arn:aws:iam::222222222222:role/deploy"]},
}


def test_project_runs_python_in_the_makefile_virtualenv():
    assert PROJECT["name"] == "org-trail"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"


@pytest.mark.parametrize("path", list(generated_files()), ids=lambda p: p.name)
def test_derived_files_match_the_config_model(path: Path):
    assert path.read_text() == generated_files()[path], "run `make contract`"


def test_pulumi_yaml_passes_the_cli_project_rules_and_schema():
    assert project_problems(PROJECT) == []
    if not CLI_SCHEMA.exists():
        pytest.skip("the CLI's project schema is not beside this checkout")
    jsonschema.validate(PROJECT, json.loads(CLI_SCHEMA.read_text()))


@pytest.mark.parametrize("stack", ["security", "management"])
def test_committed_stack_files_pass_the_cli_merge_and_the_model(stack):
    settings = load_settings(read_stack_config(PROJECT_DIR, stack), stack)
    expected = SecuritySettings if stack == "security" else ManagementSettings
    assert isinstance(settings, expected)


@pytest.mark.parametrize("stack", ["security", "management"])
def test_stack_files_with_only_the_required_keys_pass_the_cli_and_the_model(stack):
    merged = merge_stack_config(PROJECT, stack, MINIMAL[stack])
    settings = load_settings({key: to_engine_value(value) for key, value in merged.items()}, stack)
    assert settings.organization.management_account_id == "111111111111"


def test_the_cli_reports_every_missing_required_key_in_its_own_words():
    with pytest.raises(StackConfigError) as caught:
        merge_stack_config(PROJECT, "security", {"aws:region": "us-east-1"})
    assert str(caught.value) == (
        "Stack 'security' is missing configuration values 'org-trail:managementAccountId', "
        "'org-trail:organizationId' and 'org-trail:securityAccountId'"
    )


@pytest.mark.parametrize(
    ("key", "value", "type_name"),
    [
        ("org-trail:logRetentionDays", "a year", "integer"),
        ("org-trail:insights", "yes", "boolean"),
        ("org-trail:objectLock", "COMPLIANCE", "object"),
        ("org-trail:legacyTrails", {"accountId": "1"}, "array<object>"),
    ],
)
def test_the_cli_refuses_stack_values_of_the_wrong_type(key, value, type_name):
    with pytest.raises(
        StackConfigError, match=f"with configuration key '{key}' must be of type '{type_name}'"
    ):
        merge_stack_config(PROJECT, "management", {**MINIMAL["management"], key: value})


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ({"org-trail:x": {"type": "string", "default": "a", "value": "b"}}, "cannot have both"),
        ({"org-trail:x": {"type": "array", "default": []}}, "'items' attribute"),
        (
            {"org-trail:x": {"type": "integer", "default": "many"}},
            "not of the expected type 'integer'",
        ),
        ({"aws:region": {"type": "string", "value": "us-east-1"}}, "should not define a type"),
        ({"aws:region": {"default": "us-east-1"}}, "should not define a default value"),
        ({"aws:region": {"description": "home"}}, "must provide an attribute 'value'"),
        ({"org-trail:x": {"type": "map"}}, "has type 'map'"),
    ],
)
def test_project_declarations_the_cli_refuses_are_refused(declaration, message):
    problems = project_problems({"name": "org-trail", "runtime": "python", "config": declaration})
    assert len(problems) == 1
    assert message in problems[0]


def test_a_key_declared_without_default_is_required_in_every_stack_file(tmp_path):
    project = {
        **PROJECT,
        "config": {**PROJECT["config"], "org-trail:securityStack": {"type": "string"}},
    }
    with pytest.raises(
        StackConfigError, match="missing configuration value 'org-trail:securityStack'"
    ):
        merge_stack_config(project, "security", MINIMAL["security"])


def test_stack_files_that_are_not_mappings_are_refused(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.security.yaml").write_text("config:\n  - just\n  - a list\n")
    with pytest.raises(StackConfigError, match="must be a mapping"):
        read_stack_config(tmp_path, "security")


def test_the_editor_schema_accepts_the_stack_files_and_underlines_mistakes():
    schema = editor_schema()
    validator = jsonschema.Draft202012Validator(schema)
    for stack in ("security", "management"):
        document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        assert list(validator.iter_errors(document)) == [], stack
        first_line = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text().splitlines()[0]
        assert first_line == f"# yaml-language-server: $schema=./{SCHEMA_PATH}"
    typo = {"config": {"org-trail:objectlock": {"mode": "GOVERNANCE", "days": 1}}}
    unquoted = {"config": {"org-trail:managementAccountId": 111111111111}}
    bad_mode = {"config": {"org-trail:objectLock": {"mode": "FOREVER", "days": 1}}}
    for document in (typo, unquoted, bad_mode):
        assert list(validator.iter_errors(document)), document


def test_make_contract_reports_stale_files_then_writes_them(tmp_path, capsys):
    reference = tmp_path / REFERENCE_PATH
    reference.parent.mkdir()
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    reference.write_text(
        (PROJECT_DIR / REFERENCE_PATH).read_text().replace("| `org-trail:trailName`", "| `x`", 1)
    )
    roles = tmp_path / ROLES_PATH
    roles.write_text((PROJECT_DIR / ROLES_PATH).read_text().replace("`sns:Publish`", "`sns:*`", 1))
    outputs = [f"schema/{name}.schema.json" for name in DOCUMENTS]
    stale = ", ".join([str(REFERENCE_PATH), str(ROLES_PATH), str(SCHEMA_PATH), *outputs])
    assert contract_main([], tmp_path) == 1
    assert capsys.readouterr().out == (
        f"out of date with the config model: {stale} (run `make contract`)\n"
    )
    assert not (tmp_path / SCHEMA_PATH).exists()
    assert contract_main(["--write"], tmp_path) == 0
    written = [str(REFERENCE_PATH), str(ROLES_PATH), str(SCHEMA_PATH), *outputs]
    assert capsys.readouterr().out == "".join(f"wrote {path}\n" for path in written)
    for path in written:
        assert (tmp_path / path).read_text() == (PROJECT_DIR / path).read_text()
    assert contract_main([], tmp_path) == 0


def test_a_hand_written_config_section_is_replaced_by_the_models():
    committed = (PROJECT_DIR / "Pulumi.yaml").read_text()
    head = committed.split(f"\n{PROJECT_NOTE}", 1)[0]
    hand_written = f"{head}\n\n\nconfig:\n  org-trail:trailName:\n    type: string\n"
    assert rendered_project(hand_written) == committed


def test_pulumi_types_follow_references_and_skip_null_branches():
    defs = {"Archive": {"type": "object"}, "Alias": {"$ref": "#/$defs/Archive"}}
    optional = {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Alias"}]}
    assert _type_of(optional, defs) == {"type": "object"}
    assert _type_of({"const": "security"}, {}) == {"type": "string"}
    assert _type_of({"enum": ["GOVERNANCE", "COMPLIANCE"]}, {}) == {"type": "string"}
    numbers = {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}
    assert _type_of(numbers, {}) == {"type": "array", "items": {"type": "integer"}}
