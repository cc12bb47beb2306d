"""Adapters: implementations of the ports, offline (``adapters.offline``) and for AWS (``adapters.aws``)."""
