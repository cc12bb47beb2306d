"""Ports: the protocols the core depends on, implemented by adapters (offline or AWS).

Import the module you need (``endurance.ports.providers``, ``endurance.ports.storage``) directly, so a handler
loads only the ports it uses.
"""
