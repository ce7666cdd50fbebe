-- The gateway's PostgreSQL role and database (docs/deploy.md, "PostgreSQL"). Run as a superuser:
--   psql -v ON_ERROR_STOP=1 -f postgresql.sql
-- then put the password into SYNC_GATEWAY_DATABASE_URL in /etc/sync-gateway/env.
-- tests/deploy/test_postgresql_role.py runs these statements (with names of its own), then
-- migrates and imports a window as the role.

-- A role of its own: it owns its database, so the migrations every command runs on start may
-- create and alter tables there, and it may do nothing outside it.
CREATE ROLE sync_gateway LOGIN PASSWORD 'change me';
CREATE DATABASE sync_gateway OWNER sync_gateway;

-- A guard against a runaway statement (the gateway's take milliseconds: one page at a time).
-- Lift it for one long migration: PGOPTIONS='-c statement_timeout=0' sync-gateway db upgrade
ALTER ROLE sync_gateway SET statement_timeout = '5min';

-- End a session that holds a transaction open and idle (a hung process), so its row locks
-- (a job's lease) do not block other runs.
ALTER ROLE sync_gateway SET idle_in_transaction_session_timeout = '5min';
