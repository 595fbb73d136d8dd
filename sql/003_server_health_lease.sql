-- The health monitor claims servers with a lease, so that with several `berth serve` replicas on one
-- database each server is checked by exactly one of them, and another takes over when a replica dies.
ALTER TABLE workspace_servers
    ADD COLUMN health_lease_owner text,
    ADD COLUMN health_lease_until timestamptz;
