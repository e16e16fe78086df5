"""Saved fan filters (segments): a named, versioned FanFilter of an account, evaluated in SQL."""
