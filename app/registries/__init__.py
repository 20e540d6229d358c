"""Adapters for the public registries (ANPR, INAD, PRA/ACI via PDND)."""
