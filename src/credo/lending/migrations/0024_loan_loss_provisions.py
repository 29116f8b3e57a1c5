from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0023_interest_accruals")]

    operations: list = []
