"""Pure fill logic: no Airflow, no network, no database. Unit-tested directly."""
