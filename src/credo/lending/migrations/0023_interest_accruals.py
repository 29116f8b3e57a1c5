"""Accrual accounting (issue 20 item 4): the book's basis, the per-loan accrual sub-ledger and
the chunks' accrual batches.

Data: a database that already has journal entries keeps the cash basis it was kept on (its
posted interest income was recognised when received; switching would need an opening accrual
that finance must decide); a database without entries (a new book) starts on the accrual basis.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from credo.core.migration_ops import set_fillfactor


def basis_for_existing_books(apps, schema_editor):
    BookSettings = apps.get_model("lending", "BookSettings")
    JournalEntry = apps.get_model("lending", "JournalEntry")
    using = schema_editor.connection.alias
    basis = "cash" if JournalEntry.objects.using(using).exists() else "accrual"
    BookSettings.objects.using(using).update_or_create(pk=1, defaults={"basis": basis})


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0022_upfront_fee"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AccrualBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('business_date', models.DateField(db_index=True)),
                ('interest', models.BigIntegerField(default=0)),
                ('penalty', models.BigIntegerField(default=0)),
                ('loans', models.IntegerField(default=0)),
                ('entry', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lending.journalentry')),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='lending.product')),
            ],
            options={
                'verbose_name': '计提批次',
                'verbose_name_plural': '计提批次',
            },
        ),
        migrations.CreateModel(
            name='BookSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('basis', models.CharField(choices=[('accrual', '权责发生制'), ('cash', '收付实现制')], default='accrual', max_length=10, verbose_name='记账基础')),
                ('non_accrual_dpd', models.PositiveIntegerField(default=90, help_text='逾期超过该天数的贷款停止计提利息，已计提未收利息转入表外。', verbose_name='转非应计逾期天数')),
                ('changed_at', models.DateTimeField(auto_now=True, verbose_name='修改时间')),
                ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='修改人')),
            ],
            options={
                'verbose_name': '账簿设置',
                'verbose_name_plural': '账簿设置',
            },
        ),
        migrations.CreateModel(
            name='LoanAccrual',
            fields=[
                ('loan', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='accrual', serialize=False, to='lending.loan')),
                ('interest_accrued', models.BigIntegerField(default=0, verbose_name='累计计提利息')),
                ('interest_adjusted', models.BigIntegerField(default=0, verbose_name='应收利息调整')),
                ('interest_off_balance', models.BigIntegerField(default=0, verbose_name='表外应收利息')),
                ('penalty_accrued', models.BigIntegerField(default=0, verbose_name='累计计提罚息')),
                ('penalty_adjusted', models.BigIntegerField(default=0, verbose_name='应收罚息调整')),
                ('penalty_off_balance', models.BigIntegerField(default=0, verbose_name='表外应收罚息')),
                ('period_start', models.DateField(blank=True, null=True)),
                ('period_due', models.DateField(blank=True, null=True)),
                ('period_interest', models.BigIntegerField(default=0)),
                ('period_accrued', models.BigIntegerField(default=0)),
                ('non_accrual_since', models.DateField(blank=True, null=True, verbose_name='转非应计日期')),
                ('last_date', models.DateField(blank=True, null=True, verbose_name='最近计提日')),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='lending.product')),
            ],
            options={
                'verbose_name': '贷款应计明细',
                'verbose_name_plural': '贷款应计明细',
            },
        ),
        migrations.RunPython(basis_for_existing_books, migrations.RunPython.noop),
        # the close rewrites every accruing loan's row daily (as lending_loan, 0019)
        set_fillfactor("lending_loanaccrual", fillfactor=70),
    ]
