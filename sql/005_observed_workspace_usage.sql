-- What the health monitor observes Berth's own workspace containers using on each server: CPU in
-- cores (1.0 is one core busy) and memory in MB (working set). The old percent column was never written.
ALTER TABLE workspace_servers RENAME COLUMN observed_cpu_percent TO observed_cpu_cores;
