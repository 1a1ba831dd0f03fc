"""Bulk imports: a district's roster from OneRoster 1.2 CSV files."""
