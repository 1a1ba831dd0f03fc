"""Adapters: the only package that knows SQLite, PostgreSQL and the environment."""
