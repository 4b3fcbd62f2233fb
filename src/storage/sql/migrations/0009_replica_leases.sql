-- 0009: work that must happen once across several server replicas on one database (docs/scale-out.md).
-- A webhook delivery is claimed by one replica (lease_owner) until lease_until (ms); an outbox consumer
-- ("webhooks", "deploy") is followed by one replica at a time under the same kind of lease.
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_cursors ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE event_cursors ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
