"""Caregiver assistant core: knowledge, triage and language rules. Never imports rasa."""
