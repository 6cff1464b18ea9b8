"""`make year`: a whole city and a whole year of the work plan, replayed through the services' real
interfaces on a simulated clock, with every invariant checked at the end (docs/benchmarks.md)."""
