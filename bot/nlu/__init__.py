"""Custom Rasa graph components of the NLU pipeline (see config.yml)."""
