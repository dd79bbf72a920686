"""The « Applications connectées » right: built-in administrators get it in full."""

from django.db import migrations

ALL = ["view", "add", "change", "delete"]


def grant(apps, schema_editor):
    Profile = apps.get_model("core", "Profile")
    for profile in Profile.objects.filter(is_builtin=True, name="Administrateur"):
        profile.rights = {**profile.rights, "connectors": ALL}
        profile.save(update_fields=["rights"])


def revoke(apps, schema_editor):
    Profile = apps.get_model("core", "Profile")
    for profile in Profile.objects.filter(rights__has_key="connectors"):
        profile.rights = {k: v for k, v in profile.rights.items() if k != "connectors"}
        profile.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_scheduled_runs")]

    operations = [migrations.RunPython(grant, revoke)]
