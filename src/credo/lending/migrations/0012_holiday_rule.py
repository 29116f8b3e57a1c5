# Issue 18 item 3: a due date on a holiday or weekend, per product version (copied to the loan).
from django.db import migrations, models

HOLIDAY_RULE_CHOICES = [
    ("none", "不调整"),
    ("next_working_day", "顺延至下一工作日（还款日调整）"),
    ("defer_penalty", "节假日顺延（还款日不变，下一工作日前不计罚息）"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0011_schedule_conventions"),
    ]

    operations = [
        migrations.AddField(
            model_name="productversion",
            name="holiday_rule",
            field=models.CharField(
                choices=HOLIDAY_RULE_CHOICES,
                default="defer_penalty",
                max_length=20,
                verbose_name="还款日遇节假日",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="holiday_rule",
            field=models.CharField(
                choices=HOLIDAY_RULE_CHOICES,
                default="defer_penalty",
                max_length=20,
                verbose_name="还款日遇节假日",
            ),
        ),
    ]
