"""Channel logic that needs no Rasa: web chat sessions and history."""
