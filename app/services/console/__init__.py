"""Consoles: one-time access (tokens, sessions, limits), the VNC handshake (rfb), and the relay
between the browser and Proxmox."""
