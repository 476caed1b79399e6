-- The bundle's own database. Atomic, so EXCHANGE TABLES is atomic (chDB's built-in `default` is not).
CREATE DATABASE IF NOT EXISTS {db:Identifier} ENGINE = Atomic;
