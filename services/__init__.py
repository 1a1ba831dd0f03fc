"""Application services: ingest, projections, query, and the CLI that wires them."""
