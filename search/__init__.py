"""Loads an index directory and answers queries."""
