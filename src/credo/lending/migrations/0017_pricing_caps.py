from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0016_loan_charges")]

    operations: list = []
