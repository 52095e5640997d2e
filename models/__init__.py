"""Trained model files shipped with spamguard (``default/`` is the shipped default model)."""
