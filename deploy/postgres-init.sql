-- Roles for the reference deployment (docker-compose.yml); scripts/postgres.sh does the same locally.
-- Passwords are set by the operator afterwards: ALTER ROLE berth_owner PASSWORD '…'; ALTER ROLE berth_app PASSWORD '…';
-- The owner runs migrations and backups, which read and write every tenant's rows: it bypasses RLS.
CREATE ROLE berth_owner LOGIN CREATEDB BYPASSRLS;
CREATE ROLE berth_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE berth_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS;
GRANT berth_tenant TO berth_app;
CREATE DATABASE berth OWNER berth_owner;
