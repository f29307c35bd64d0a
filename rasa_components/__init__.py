"""Rasa-side extensions (graph components and a policy): thin wrappers around the rasa-free bot core."""
