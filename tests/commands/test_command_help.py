"""Every project management command explains itself: ``manage.py <command> --help`` reads well."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = {"targets_site", "items", "sensors", "games", "exports"}
# The commands SPEC.md promises; more are welcome, fewer is a regression.
PROMISED = {
    "seed_demo",
    "import_items",
    "generate_readings",
    "import_readings",
    "check_thresholds",
    "plot_readings",
    "export_data",
    "prune_exports",
    "run_exports",
}
# Options every Django command has; their help is Django's, not ours to check.
DJANGO_DEFAULT_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def project_commands() -> dict[str, str]:
    """{command name: app label} for the commands that live in this project's apps."""
    return {
        name: app.rsplit(".", 1)[-1]
        for name, app in get_commands().items()
        if app.rsplit(".", 1)[-1] in PROJECT_APPS
    }


COMMANDS = sorted(project_commands())


def test_every_command_the_spec_promises_exists():
    assert sorted(PROMISED - set(COMMANDS)) == []


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_says_what_it_does_in_a_sentence(name):
    command = load_command_class(project_commands()[name], name)
    text = " ".join(str(command.help).split())

    assert len(text) >= 20, f"{name}: help is {text!r}"
    assert text[0].isupper() and text.endswith((".", ")")), f"{name}: {text!r}"


@pytest.mark.parametrize("name", COMMANDS)
def test_each_of_the_command_options_has_its_own_help(name):
    command = load_command_class(project_commands()[name], name)
    parser = command.create_parser("manage.py", name)

    undocumented = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if action.dest not in DJANGO_DEFAULT_OPTIONS and not (action.help or "").strip()
    ]
    assert undocumented == []


@pytest.mark.parametrize("name", COMMANDS)
def test_help_exits_zero_and_prints_the_usage_and_the_description(name, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command(name, "--help")
    out = capsys.readouterr().out

    assert exited.value.code == 0
    assert out.startswith("usage: ") and f" {name} [-h]" in out.splitlines()[0]
    first_words = " ".join(str(load_command_class(project_commands()[name], name).help).split()[:4])
    assert first_words in " ".join(out.split())


def test_help_on_a_real_command_line_exits_zero():
    """One real process: ``manage.py`` itself wires the project's commands up."""
    done = subprocess.run(
        [sys.executable, "manage.py", "export_data", "--help"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "targets_site.settings_test"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: manage.py export_data")
    assert "--format" in done.stdout
