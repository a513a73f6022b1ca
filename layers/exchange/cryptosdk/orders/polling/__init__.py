"""The status poller: keeps every active order in step with the exchange until it ends.

- `decision`: the pure decision (exchange snapshot + stored order, or its schedule view -> what
  to write);
- `pacing`: how often an order is polled, and how fast one run goes (Pacer, Deadline);
- `options`: a run's options and the clients it uses;
- `flow`: one order through fetch, decision and its conditional write;
- `run`: one scheduled run over the due orders (the status poller function's work).

The manual refresh route polls one order through the same flow (cryptosdk.orders.refresh).
"""
