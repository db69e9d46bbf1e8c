"""The catalogue: the specs, their validation (full and fast), and readable descriptions.

Nothing here knows about keys, signatures or sockets: it answers "what does this
operation take and answer" from the YAML specs under ``specs/``.
"""
