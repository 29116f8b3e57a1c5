"""No 砍头息 (issue 20 item 3, 民法典 第六百七十条): how the upfront fee is collected.

* ``ProductVersion.upfront_fee_timing``: 放款时收取 (default, every existing version) or
  随首期还款收取.
* ``Loan.upfront_fee_timing``: copied from the version at loan creation. Loans already
  disbursed are marked ``deducted`` (从放款金额中扣除（历史放款）): their posted entries stay as
  they are (Dr 贷款本金 / Cr 银行存款 principal − fee / Cr 手续费收入 fee) and the replay keeps
  producing exactly those balances. Loans not yet disbursed take their version's choice and
  are disbursed in full.
"""

from django.db import migrations, models

TIMINGS = [("disbursement", "放款时收取"), ("first_installment", "随首期还款收取")]


def forwards(apps, schema_editor):
    Loan = apps.get_model("lending", "Loan")
    ProductVersion = apps.get_model("lending", "ProductVersion")
    # posted money never changes: a loan disbursed before this migration keeps its history
    Loan.objects.exclude(status="pending").update(upfront_fee_timing="deducted")
    for pv_id, timing in ProductVersion.objects.exclude(
        upfront_fee_timing="disbursement"
    ).values_list("id", "upfront_fee_timing"):  # none at migration time; kept for re-runs
        Loan.objects.filter(status="pending", product_version_id=pv_id).update(
            upfront_fee_timing=timing
        )


def backwards(apps, schema_editor):
    pass  # the columns are dropped by the schema operations


class Migration(migrations.Migration):
    dependencies = [("lending", "0021_portfolio_entries")]

    operations = [
        migrations.AddField(
            model_name="productversion",
            name="upfront_fee_timing",
            field=models.CharField(
                choices=TIMINGS,
                default="disbursement",
                help_text="本金全额放款，手续费不从放款金额中扣除",
                max_length=20,
                verbose_name="一次性手续费收取方式",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="upfront_fee_timing",
            field=models.CharField(
                choices=[*TIMINGS, ("deducted", "从放款金额中扣除（历史放款）")],
                default="disbursement",
                max_length=20,
                verbose_name="一次性手续费收取方式",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
