"""Privacy: identifiers removed from conversations before they are stored."""
