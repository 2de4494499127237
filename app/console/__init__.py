"""Consoles in the browser: a VM's screen (noVNC) and a serial terminal (xterm.js), relayed
through the portal's own websocket."""

from app.console.routes import bp

__all__ = ["bp"]
