"""Everything the tests share, in one package (import from the module that holds it; nothing is
re-exported here):

- people: tokens and headers, generated ID numbers, credit and region codes, sealed contacts;
- membership: building organisation trees and admitting members over membership's HTTP API,
  and read-only looks into its database;
- waiting: `eventually` (async probes) and `eventually_sync` (plain ones);
- rows: a consumer's projections reached (`projected`), outbox rows staged (`staged`), one query;
- broker: reading topics and publishing as an outside system does;
- processes: starting service and sink processes, client and database fixture factories (the
  integration modules declare theirs with pytest.mark.services: tests/integration/conftest.py);
- sinks: what the SMTP / HTTP sinks received;
- services: where the support package and the in-process tests import service code from
  (module paths inside services/ change with the layout; fix them here; older integration
  modules still import a few service modules of their own);
- inprocess: migrated per-service databases, rolled-back transactions and the outbox→consumer
  loopback (the tests/inprocess layer).
"""
