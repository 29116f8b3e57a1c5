"""Background tasks of the 企业微信 / 钉钉 apps."""

from __future__ import annotations

from django_tasks import task


@task()
def sync_all() -> dict[str, str]:
    """Nightly: sync each enabled platform whose 每日自动同步 is on."""
    from credo.imapps.models import ImApp
    from credo.imapps.services import sync_run

    out = {}
    for app in ImApp.objects.filter(enabled=True, sync_enabled=True):
        run = sync_run(platform=app.platform, actor=None, trigger="schedule")
        out[app.platform] = run.status
    return out
