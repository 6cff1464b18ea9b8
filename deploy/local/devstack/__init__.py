"""The local stack: everything `make run` and the tests start, from pip-installed packages only."""
