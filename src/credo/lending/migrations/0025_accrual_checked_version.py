"""``LoanAccrual.checked_version`` (the close re-checks a loan's accrual period against its
schedule only when the loan's version moved) and room on each sub-ledger page for the nightly
rewrite of every row to be a heap-only update on PostgreSQL (``fillfactor = 80``, as
``lending_loan`` since 0019)."""

from django.db import migrations, models


def _set(fillfactor: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE lending_loanaccrual SET (fillfactor = {fillfactor})"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("lending", "0024_loan_loss_provisions")]

    operations = [
        migrations.AddField(
            model_name="loanaccrual",
            name="checked_version",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(_set(80), _set(100)),
    ]
