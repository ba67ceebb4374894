"""Environments: named profiles exposing resources by role (DESIGN.md)."""
