from django.db import migrations, models


def first_entry(apps, schema_editor):
    Entry = apps.get_model("blog", "Entry")
    Entry.objects.create(
        title="Baking sourdough at home",
        body="Flour, water, salt and patience: the starter does the rest.",
    )


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField()),
            ],
            options={"verbose_name_plural": "entries"},
        ),
        migrations.RunPython(first_entry, migrations.RunPython.noop),
    ]
