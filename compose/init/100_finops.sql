-- Runs once, on the first start with an empty data volume, in $POSTGRES_DB
-- (finops by default; the entrypoint has already created it).
--
-- The product works with and without TimescaleDB: users run the timescaledb
-- image, CI runs plain PostgreSQL 15 (the extension is not obtainable there).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  ELSE
    RAISE NOTICE 'timescaledb extension not available: running on plain PostgreSQL';
  END IF;
END
$$;
