"""``LoanAccrual.checked_version``: the close re-checks a loan's accrual period against its
schedule only when the loan's version moved since the last check (every schedule rebuild bumps
it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lending", "0024_loan_loss_provisions")]

    operations = [
        migrations.AddField(
            model_name="loanaccrual",
            name="checked_version",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
    ]
