"""Language rules on spaCy: age, duration and red-flag extraction for caregiver messages."""
