-- Prices and plan assignments with a history, so a past period is rated as it was: each interval is
-- rated, part by part, with the plan the tenant had and the prices that plan had at each moment.
--
-- A plan's prices live in versions, each in force from its effective_from until the next one's.
CREATE TABLE price_plan_versions (
    plan_id uuid NOT NULL REFERENCES price_plans (id),
    effective_from timestamptz NOT NULL,
    cpu_core_hour_micros bigint NOT NULL DEFAULT 0 CHECK (cpu_core_hour_micros >= 0),
    memory_gb_hour_micros bigint NOT NULL DEFAULT 0 CHECK (memory_gb_hour_micros >= 0),
    disk_gb_hour_micros bigint NOT NULL DEFAULT 0 CHECK (disk_gb_hour_micros >= 0),
    workspace_hour_micros bigint NOT NULL DEFAULT 0 CHECK (workspace_hour_micros >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, effective_from)
);
-- The prices plans have now have always been theirs.
INSERT INTO price_plan_versions (plan_id, effective_from, cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros)
    SELECT id, '-infinity', cpu_core_hour_micros, memory_gb_hour_micros, disk_gb_hour_micros, workspace_hour_micros FROM price_plans;
ALTER TABLE price_plans DROP COLUMN cpu_core_hour_micros, DROP COLUMN memory_gb_hour_micros,
    DROP COLUMN disk_gb_hour_micros, DROP COLUMN workspace_hour_micros;

-- A tenant's plan, each assignment in force from its effective_from until the next one's; a NULL plan
-- rates at zero. Before a tenant's first assignment there is no plan either.
CREATE TABLE tenant_plan_assignments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    effective_from timestamptz NOT NULL,
    plan_id uuid REFERENCES price_plans (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, effective_from)
);
-- The plan a tenant has now has always been its.
INSERT INTO tenant_plan_assignments (tenant_id, effective_from, plan_id)
    SELECT id, '-infinity', price_plan_id FROM tenants WHERE price_plan_id IS NOT NULL;
ALTER TABLE tenants DROP COLUMN price_plan_id;

ALTER TABLE tenant_plan_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_plan_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_plan_assignments TO berth_tenant
    USING (tenant_id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT nullif(current_setting('berth.tenant_id', true), '')::uuid));
CREATE POLICY system_scope ON tenant_plan_assignments TO berth_app USING (true) WITH CHECK (true);

GRANT SELECT, INSERT ON price_plan_versions, tenant_plan_assignments TO berth_app;
-- An assignment made again for the same instant replaces the plan it names.
GRANT UPDATE (plan_id, created_at) ON tenant_plan_assignments TO berth_app;
GRANT SELECT ON price_plan_versions, tenant_plan_assignments TO berth_tenant;

-- A period's intervals found by both ends of the period, not only by their start.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX usage_intervals_span_idx ON usage_intervals
    USING gist (tenant_id, tstzrange(started_at, coalesce(ended_at, 'infinity'), '[)'));

-- Checkpoints: when the reconciler last saw an interval's container running. An interval whose
-- container vanished without Docker saying when it stopped ends there, so metering never runs on
-- past what was seen, and falls short of the truth by at most one pass.
ALTER TABLE usage_intervals ADD COLUMN checked_at timestamptz;
