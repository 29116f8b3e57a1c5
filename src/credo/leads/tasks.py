"""Background tasks of the leads app."""

from __future__ import annotations

from django_tasks import task


@task()
def assign_unassigned() -> int:
    """Every 10 minutes: retry the rules for open leads nobody could take (all at their cap,
    opted out, or the team had no members)."""
    from credo.leads.services import assign_unassigned as run

    return run()


@task()
def follow_up_reminders() -> int:
    """Every morning: remind each manager of the leads whose next follow-up is due today
    (in-app + their configured channels, once per lead and date)."""
    from credo.leads.services import follow_up_reminders_send

    return follow_up_reminders_send()
