-- The transactional outbox: events written in the same transaction as the cell writes they
-- describe, relayed to the event bus (Kafka, or the in-process bus) by every backend instance.
-- A row is claimed by one relay at a time (claimed_until, a lease taken with FOR UPDATE SKIP LOCKED)
-- and marked relayed_at once the bus acknowledged it; a relay that dies lets its lease expire.

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  key text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text,
  claimed_until timestamptz,
  relayed_at timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE relayed_at IS NULL;
