"""kb: a self-service knowledge base with semantic search."""

__version__ = "0.1.0"
