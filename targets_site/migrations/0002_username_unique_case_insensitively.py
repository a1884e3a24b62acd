"""Usernames unique regardless of case: ``Racer421f0`` and ``RACER421F0`` are one player.

auth.User belongs to Django, so its model state is left alone and the unique index on
``Lower(username)`` is created (and dropped on reverse) through the schema editor. Existing
clashes stop the migration with a list of them to resolve first (rename or merge the accounts).
"""

from django.db import migrations, models
from django.db.models.functions import Lower

CONSTRAINT_NAME = "auth_user_username_ci_unique"


def _constraint():
    return models.UniqueConstraint(Lower("username"), name=CONSTRAINT_NAME)


def add_constraint(apps, schema_editor):
    User = apps.get_model("auth", "User")
    clashes = (
        User.objects.annotate(folded=Lower("username"))
        .values("folded")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .order_by("folded")
    )
    groups = []
    for clash in clashes:
        names = sorted(
            User.objects.annotate(folded=Lower("username"))
            .filter(folded=clash["folded"])
            .values_list("username", flat=True)
        )
        groups.append(", ".join(repr(name) for name in names))
    if groups:
        listing = "\n  ".join(groups)
        raise RuntimeError(
            f"{len(groups)} group(s) of usernames differ only by case; rename or merge them "
            f"before migrating (e.g. in the admin), then run migrate again:\n  {listing}"
        )
    schema_editor.add_constraint(User, _constraint())


def remove_constraint(apps, schema_editor):
    schema_editor.remove_constraint(apps.get_model("auth", "User"), _constraint())


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("targets_site", "0001_idempotency_key"),
    ]

    operations = [migrations.RunPython(add_constraint, remove_constraint)]
