"""Offline providers: need no network, no keys and no downloads (the local default)."""
