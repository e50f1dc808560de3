"""The Python SDK: `dais.Client`, one module per domain, speaking HTTP only."""
