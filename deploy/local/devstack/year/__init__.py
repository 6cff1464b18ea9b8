"""The year of the city (issue 15): a whole city replayed through a year of the work plan, then every invariant checked."""
