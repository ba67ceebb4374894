"""Environments: named profiles exposing resources by role (docs/configuration.md)."""
