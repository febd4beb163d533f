"""Helpers shared by the tests: stack configs, simulations, policy look-ups."""
