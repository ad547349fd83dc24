"""`gandsl lsp`: a Language Server Protocol server for `.gan` files (docs/editor.md)."""

from __future__ import annotations


def serve() -> None:
    """Start the server on stdio; exit 2 with the install command when pygls is missing."""
    try:
        from .server import serve as start
    except ImportError as e:  # pygls and lsprotocol are the `lsp` extra
        from ..errors import UserError

        raise UserError(f"gandsl lsp needs pygls 2 ({e.name} is missing): pip install "
                        "'gandsl[lsp]'") from None
    start()
