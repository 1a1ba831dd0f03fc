"""The read path: read models, audit replays and as-of views."""
