"""Pulumi.yaml and the example stack files agree with the config contract."""

import yaml

from orgtrail.config import KEYS, ManagementSettings, SecuritySettings, load_settings
from orgtrail.simulate import PROJECT_DIR
from orgtrail.stack_config import project_defaults, read_stack_config

PROJECT = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())


def test_project_runs_python_in_the_makefile_virtualenv():
    assert PROJECT["name"] == "org-trail"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"


def test_every_config_key_is_declared_with_the_same_type_and_default():
    declared = {key.split(":", 1)[1]: value for key, value in PROJECT["config"].items()}
    assert set(declared) == set(KEYS)
    for name, key in KEYS.items():
        declaration = declared[name]
        if key.type in ("object", "array"):
            # Pulumi.yaml cannot type objects; their default is a project-level value.
            assert declaration["value"] == key.default, name
        else:
            assert declaration["type"] == key.type, name
            assert declaration.get("default") == key.default, name
            assert declaration.get("description"), name


def test_project_defaults_reach_the_program_like_the_cli_passes_them():
    defaults = project_defaults(PROJECT_DIR)
    assert defaults["org-trail:objectLock"] == {"mode": "GOVERNANCE", "days": 365}
    assert defaults["org-trail:insights"] is True


def test_example_stack_files_are_valid_and_complete():
    security = load_settings(read_stack_config(PROJECT_DIR, "security"), "security")
    management = load_settings(read_stack_config(PROJECT_DIR, "management"), "management")
    assert isinstance(security, SecuritySettings)
    assert isinstance(management, ManagementSettings)
    assert management.security_stack.endswith("/security")
    assert len(management.legacy_trails) >= 3
    assert security.organization == management.organization
