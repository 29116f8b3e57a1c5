from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0017_pricing_caps")]

    operations: list = []
