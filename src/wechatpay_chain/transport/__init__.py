"""Transport: HTTP on aiohttp (async) and urllib3 (sync), TLS, proxies, the pre-send checks
both share, and the masked debug log of what went on the wire.

Only :mod:`.aio` is imported by a client; :mod:`.blocking` (urllib3) loads on the first
synchronous call.
"""
