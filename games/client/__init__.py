"""The desktop client, ``python -m games.client``: needs requirements-client.txt only."""

VERSION = "targets-client/1.0"
