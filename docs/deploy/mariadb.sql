-- The gateway's MariaDB (or MySQL 8) user and database (docs/deploy.md, "MariaDB and MySQL").
-- Run as an administrator:
--   mariadb < mariadb.sql
-- then put the password into SYNC_GATEWAY_DATABASE_URL in /etc/sync-gateway/env:
--   mysql+pymysql://sync_gateway:PASSWORD@db-host:3306/sync_gateway
-- tests/deploy/test_mariadb_user.py runs these statements (with names of its own), then migrates
-- and stores a page as the user.

-- utf8mb4, compared exactly: every character fits, "North" and "north" are two shops
-- (the migrations also give each table these options, whatever the database's default).
CREATE DATABASE sync_gateway CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- A user of its own. The migrations every command runs on start create, alter and index tables
-- with foreign keys in its database; it needs nothing outside it.
CREATE USER 'sync_gateway'@'%' IDENTIFIED BY 'change me';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES ON sync_gateway.* TO 'sync_gateway'@'%';
