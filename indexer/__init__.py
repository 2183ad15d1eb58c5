"""Compiles Markdown articles into an index directory."""
