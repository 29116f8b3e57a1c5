from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lending", "0021_portfolio_entries")]

    operations: list = []
