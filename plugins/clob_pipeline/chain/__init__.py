"""Polymarket fills read from Polygon: the independent witness the API loads are reconciled against.

- ``contracts.py``: which exchange contracts, eras and ``OrderFilled`` layouts exist (configuration,
  overridable per connection);
- ``decode.py``: one log into a fill (eth-abi), with the checks that keep foreign logs out;
- ``provider_errors.py``: what a provider's ``eth_getLogs`` error answer says about its limits;
- ``planner.py``: the block-range plan of one wallet, split and grown from those answers;
- ``blocks.py``: time to block by binary search over cached block timestamps;
- ``scan.py``: one wallet's scan loop (RPC through the hook, rows into the witness table).

Everything here but ``scan.py`` is pure and unit-tested without Airflow or I/O.
"""
