"""Configuration: the schema, the layering, the home directory, the trust table, saved prompts."""
