"""The year of the city (issue 15): `python -m devstack.year` replays a work year over a simulated city."""
