"""Proxy-wallet resolution: CREATE2 derivation (pure) and the Gamma/Data-API resolver."""
