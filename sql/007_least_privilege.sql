-- Least privilege for tenant transactions, and references that cannot cross tenants.
--
-- berth_tenant gets only what tenant code does: read its tenant, workspaces, their events, usage and
-- the price plans; note activity on a workspace; write audit rows; keep its idempotency keys. Every
-- workspace change is made by the service in the system scope, after the tenant's ownership check.
REVOKE ALL ON tenants, api_keys, workspace_servers, workspaces, workspace_events, usage_intervals,
    price_plans, idempotency_keys, audit_events, placement_cursors, deployment FROM berth_tenant;
GRANT SELECT ON tenants, workspaces, workspace_events, usage_intervals, price_plans TO berth_tenant;
GRANT UPDATE (last_activity_at) ON workspaces TO berth_tenant;
GRANT SELECT (id, name, status, labels) ON workspace_servers TO berth_tenant;
GRANT INSERT ON audit_events TO berth_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO berth_tenant;

-- A row that names a workspace names its tenant too, and the pair must exist: an insert in one
-- tenant's scope can never point at another tenant's workspace, even where row-level security on the
-- referencing table alone would let it through.
ALTER TABLE workspaces ADD CONSTRAINT workspaces_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE workspace_events DROP CONSTRAINT workspace_events_workspace_id_fkey,
    ADD CONSTRAINT workspace_events_workspace_fkey FOREIGN KEY (tenant_id, workspace_id) REFERENCES workspaces (tenant_id, id);
ALTER TABLE usage_intervals DROP CONSTRAINT usage_intervals_workspace_id_fkey,
    ADD CONSTRAINT usage_intervals_workspace_fkey FOREIGN KEY (tenant_id, workspace_id) REFERENCES workspaces (tenant_id, id);

-- Idempotency: the workspace a claim creates is chosen when the key is claimed, and an unfinished
-- claim has a lease, so a request can take over the key of one whose replica died.
ALTER TABLE idempotency_keys
    ADD COLUMN workspace_id uuid,
    ADD COLUMN locked_until timestamptz;
