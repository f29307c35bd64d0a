"""Follow-up questions, answer interpretation and the advice/referral decision."""
