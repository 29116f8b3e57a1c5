from decimal import Decimal

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lending", "0016_loan_charges")]

    operations: list = [
        migrations.AddField(
            model_name="productversion",
            name="max_apr",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("24"),
                help_text="按 IRR 法计算、含全部费用的年化利率（单利）不得超过此值",
                max_digits=6,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="年化利率上限（%）",
            ),
        ),
    ]
