"""Value-dated servicing (倒起息重放).

* :mod:`credo.lending.replay.engine` — the pure core (no Django): ``replay(terms, schedule,
  events, as_of, calendar, floor) -> ReplayResult`` and ``close_day`` (used by the close of
  business too);
* :mod:`credo.lending.replay.service` — load a loan's schedule and events, run the engine, write
  the derived state and post the ledger difference as one 倒起息调整 entry dated today;
* :mod:`credo.lending.replay.hooks` — ``loan_replayed`` listeners (collections closes cases).
"""
