"""Everything the tests share, in one package (import from the module that holds it; nothing is
re-exported here):

- people: tokens and headers, generated ID numbers, credit and region codes, sealed contacts;
- membership: building organisation trees and admitting members over membership's HTTP API,
  and read-only looks into its database;
- waiting: `eventually` (async probes) and `eventually_sync` (plain ones);
- broker: reading topics and publishing as an outside system does;
- processes: starting service and sink processes, client and database fixture factories;
- sinks: what the SMTP / HTTP sinks received;
- services: the ONLY module that imports service code (module paths inside services/ change
  with the layout; fix them here);
- inprocess: migrated per-service databases, rolled-back transactions and the outbox→consumer
  loopback (the tests/inprocess layer).
"""
