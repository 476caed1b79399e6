"""clob-pipeline: Polymarket fills and proxy-wallet mappings into ClickHouse, driven by Airflow 3.

Layout (modelled on Airflow's provider packages):

- ``hooks``     -- I/O only: ClickHouse (server or embedded chDB) and the Polymarket HTTP APIs.
- ``operators`` -- one orchestrated step each, logging what they did in numbers.
- ``fills``     -- pure functions (normalising API rows, fill ids, paging plans, Param checks),
  unit-tested without Airflow.
"""
