"""Evaluation and benchmark tools (make eval, make bench)."""
