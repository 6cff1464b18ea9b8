"""Tests of the year of the city (issue 15): its stack, faults and invariants."""
