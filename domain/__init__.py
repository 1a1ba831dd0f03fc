"""The pure domain of Mastery Ledger: events, aggregates and mastery rules.

Nothing here performs I/O or imports infrastructure (an import-linter contract
in pyproject.toml enforces it).
"""
