from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0015_servicing_approvals")]

    operations: list = []
