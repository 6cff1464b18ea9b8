"""Shared plumbing for the UnionOps services: settings, database, outbox and relay,
idempotent consumers, telemetry, authentication, problem responses and personal data.

Domain logic never lives here; each service owns its own."""
