-- The sweep (every poll) looks for pending deliveries older than the contact wait that nobody can
-- claim; without this it would read every pending row of a running 100,000-member fan-out.
CREATE INDEX deliveries_pending_created ON deliveries (created_at) WHERE status = 'pending';
