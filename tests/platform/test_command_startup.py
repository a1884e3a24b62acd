"""Every cron run pays for its command's start-up: Django and the command's own imports only.

The heavy libraries (DRF, pandas, matplotlib, pyarrow, boto3, requests) are imported by the code
that uses them, not by ``django.setup()`` (the apps' models, the admin modules) nor by a command's
module; the commands the README puts in a crontab skip the system checks, which import every
URLconf and view.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.management import get_commands, load_command_class

from tests.platform.subprocesses import BASE_DIR, run_python

# DRF itself is an installed app (its package, app config and token model load with Django):
# what costs is its serializers and views, and what they import.
HEAVY = (
    "rest_framework.serializers",
    "rest_framework.views",
    "pandas",
    "matplotlib",
    "pyarrow",
    "boto3",
    "requests",
)

# In a fresh interpreter: django.setup(), then each project command's start-up as
# ``manage.py <command> --help`` goes through it (its module, its parser), each in its own child
# forked after the set-up, so what one command imports is not charged to the next.
PROBE = """
import json, multiprocessing, sys
from pathlib import Path
import django
django.setup()
from django.apps import apps
from django.core.management import get_commands, load_command_class

HEAVY = set(sys.argv[1].split(","))
ROOT = Path.cwd()

def heavy_loaded():
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in sys.modules))

def started(command):
    name, app = command
    load_command_class(app, name).create_parser("manage.py", name).format_help()
    return name, heavy_loaded()

ours = {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}
commands = sorted((name, app) for name, app in get_commands().items() if app in ours)
with multiprocessing.get_context("fork").Pool(1, maxtasksperchild=1) as pool:
    loaded = dict(pool.map(started, commands, chunksize=1))
print(json.dumps({"setup": heavy_loaded(), "commands": loaded}))
"""


def test_no_command_starts_with_drf_pandas_matplotlib_pyarrow_boto3_or_requests():
    done = run_python("-c", PROBE, ",".join(HEAVY), timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["setup"] == [], "imported by django.setup() (models, admin modules, ready())"
    # The probe saw the project's commands, the cron ones among them.
    assert {"export_data", "run_exports", "prune_readings", "check_thresholds"} <= set(
        found["commands"]
    )
    assert {name: heavy for name, heavy in found["commands"].items() if heavy} == {}


def test_the_commands_in_the_readme_crontab_skip_the_system_checks():
    readme = (Path(BASE_DIR) / "README.md").read_text()
    crontab = re.search(r"```crontab\n(.*?)```", readme, re.DOTALL)
    assert crontab, "the README has a crontab block"
    names = sorted(set(re.findall(r"manage\.py (\w+)", crontab.group(1))))
    assert "run_exports" in names
    commands = get_commands()
    checked = [
        name
        for name in names
        if load_command_class(commands[name], name).requires_system_checks != []
    ]
    assert checked == []


def test_the_admin_modules_load_with_the_urls_or_the_checks_and_the_checks_see_them():
    probe = """
import django
django.setup()
from django.contrib import admin
from django.core import checks
from items.models import Item
before = len(admin.site._registry)
problems = checks.run_checks(tags=[checks.Tags.admin])
print(before, Item in admin.site._registry, len(problems))
"""
    done = run_python("-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "0"]
