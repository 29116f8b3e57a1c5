"""Background tasks: send one delivery, and the sweep for due retries."""

from __future__ import annotations

from django_tasks import task


@task()
def send_delivery(delivery_id: int) -> str:
    """Enqueued on commit when a delivery is created: send it right away."""
    from credo.webhooks.services import send_one

    return send_one(delivery_id)


@task()
def send_due() -> dict[str, int]:
    """Every minute (schedule ``webhooks.send_due``) and after an event batch: send what is due."""
    from credo.webhooks.services import send_due as run

    return run()
