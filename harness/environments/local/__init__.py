"""The local environment: the reference platform in a box (real processes, no Docker)."""
