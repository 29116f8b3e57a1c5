"""The domain event stream: sealed audit rows, in chain order, delivered to consumers.

Every state change in Credo already writes an audit row in the business transaction (see
``credo.core.audit``); the sealer chains committed rows in commit order (``seq``). That chain
*is* the event history, so the stream needs no second write path and cannot miss a change that
committed or deliver one that rolled back:

* :mod:`credo.core.events.catalogue` — the documented event types (an audit ``action`` plus a
  label, the record type and its fields), registered by each app;
* :mod:`credo.core.events.stream` — :class:`Event`, the consumer registry, one cursor row per
  consumer (``EventCursor``) and :func:`events_dispatch`, run by the sealer task right after it
  seals, so a change reaches consumers (automations, webhooks) within about a minute.

A consumer's ``handle`` runs inside the transaction that advances its cursor: it must only
write rows (a run log, a delivery queue) and enqueue tasks on commit — never call the outside
world — so a crash re-delivers the batch instead of losing or doubling it.
"""
