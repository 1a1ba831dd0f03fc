"""Longitudinal exports for district data teams (CONTRACT.md §2 `GET /v1/export`, §1 `mastery export`)."""
