"""The web side: the chat widget (static/), the demo site and, later, the review dashboard."""
