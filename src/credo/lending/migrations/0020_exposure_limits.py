from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0019_loan_fillfactor")]

    operations: list = []
