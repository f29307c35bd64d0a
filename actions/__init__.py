"""rasa_sdk actions: thin adapters from the tracker to the bot core and back."""
