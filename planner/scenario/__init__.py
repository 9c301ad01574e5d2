"""The scenario: one typed schema with defaults and descriptions, TOML in and out, overrides."""
