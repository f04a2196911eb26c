"""privaudit: finds customer personal data where it should not be, and who can read it."""

__version__ = "0.1.0"
