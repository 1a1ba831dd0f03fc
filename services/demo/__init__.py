"""A seeded synthetic district: the demo's data, and the bench's."""
