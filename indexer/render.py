"""Markdown to sanitised HTML, with heading anchors and links between articles stored by article id
(kb.index.links), never as web addresses, and images and files by their stored reference. The renderer itself
lives in the core (kb/markdown_html.py), which community posts share."""
from __future__ import annotations

from kb.markdown_html import UNLINK, Renderer, render_markdown

__all__ = ["UNLINK", "Renderer", "render_markdown"]
