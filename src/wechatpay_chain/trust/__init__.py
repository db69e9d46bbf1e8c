"""Trust: cryptography, the platform key ring, platform certificates and their refresh."""
