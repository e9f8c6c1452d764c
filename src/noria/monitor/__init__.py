"""Monitoring: drift between profiles (``.drift``); imports nothing until a submodule is used."""
