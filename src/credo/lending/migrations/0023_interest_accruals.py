from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0022_upfront_fee")]

    operations: list = []
