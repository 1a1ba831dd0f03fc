"""The write path: validate, authorise, append."""
