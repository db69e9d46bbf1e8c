"""APIv3, sans-I/O: signing strings and verification, preparing and finishing a call, the
spec-driven field transformations, uploads, notifications, pay-sign and downloads."""
