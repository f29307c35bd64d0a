"""Build the knowledge base from knowledge/ (parse, validate, index) and query it."""
