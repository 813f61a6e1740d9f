"""Helpers shared by every test area: reverts, chain helpers, strategies, permit signing."""
