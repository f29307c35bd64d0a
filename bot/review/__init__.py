"""The support team's review dashboard: conversations from the tracker store, review work, accounts."""
