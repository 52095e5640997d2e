"""Subcommands of the ``spamguard`` command line; each module exposes ``register(subparsers)``."""
