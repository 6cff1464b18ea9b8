"""Pure rules of membership: the organisation tree, admission and the member lifecycle,
transfers, the import roster, and the factories of events raised from several places. No I/O."""
