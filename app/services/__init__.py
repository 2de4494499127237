"""What the portal does. Views call services; services call app/proxmox and the database."""
