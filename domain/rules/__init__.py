"""Mastery rules: pure functions from a student's evidence to a status."""
