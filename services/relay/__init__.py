"""The relay role: the PostgreSQL event log published to Kafka (services/relay/publisher.py)."""
