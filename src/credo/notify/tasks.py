"""Background tasks: the outbox sender."""

from __future__ import annotations

from django_tasks import task


@task()
def send_due() -> dict[str, int]:
    """Every minute (schedule ``notify.send_due``): send due messages, retry failed ones."""
    from credo.notify.services import send_due as run

    return run()


@task()
def send_message(message_id: int) -> str:
    """Enqueued on commit by ``notify()``: deliver one message right away."""
    from credo.notify.services import send_one

    return send_one(message_id)
