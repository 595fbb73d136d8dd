-- Tenant isolation by row-level security, and the privileges of the two service roles.
--
-- berth_app    the login role of the service: not superuser, not owner, so it cannot ALTER or
--              DISABLE anything. Its own policies let it work across tenants (the system scope).
-- berth_tenant NOLOGIN, no BYPASSRLS. Tenant traffic runs `SET LOCAL ROLE berth_tenant` and sets
--              `berth.tenant_id` transaction-locally; it then sees and writes only that tenant's rows.
--
-- The nullif matters: once set and reset, a custom setting reads back as '' rather than NULL,
-- and ''::uuid would raise an error instead of matching nothing.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO berth_app, berth_tenant;

GRANT SELECT ON schema_migrations TO berth_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    tenants, api_keys, workspace_servers, workspaces, workspace_events, usage_intervals,
    price_plans, idempotency_keys, audit_events, placement_cursors
    TO berth_app;

-- What a tenant transaction may touch. Servers and plans are shared, read-only, and only the columns
-- a tenant may see.
GRANT SELECT ON tenants TO berth_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    workspaces, workspace_events, usage_intervals, idempotency_keys, audit_events
    TO berth_tenant;
GRANT SELECT, UPDATE (last_used_at) ON api_keys TO berth_tenant;
GRANT SELECT (id, name, status, labels) ON workspace_servers TO berth_tenant;
GRANT SELECT ON price_plans TO berth_tenant;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_keys', 'workspaces', 'workspace_events', 'usage_intervals',
                             'idempotency_keys', 'audit_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$
            CREATE POLICY tenant_isolation ON %I TO berth_tenant
            USING (tenant_id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid))
            WITH CHECK (tenant_id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid))
        $p$, t);
        EXECUTE format('CREATE POLICY system_scope ON %I TO berth_app USING (true) WITH CHECK (true)', t);
    END LOOP;
END
$$;

-- A tenant sees its own tenant row and nothing else.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO berth_tenant
    USING (id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid))
    WITH CHECK (id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid));
CREATE POLICY system_scope ON tenants TO berth_app USING (true) WITH CHECK (true);
