"""How people and programs prove who they are beyond a password: the API's personal access
tokens (tokens.py)."""
