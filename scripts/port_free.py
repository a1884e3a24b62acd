"""Exit 0 when HOST:PORT can be bound, else print why and exit 1 (used by scripts/start)."""

import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
with socket.socket() as probe:
    try:
        probe.bind((host, port))
    except OSError as exc:
        sys.exit(
            f"scripts/start: {host}:{port} is already in use ({exc.strerror}); "
            f"choose another port: bash scripts/start --port {port + 1}"
        )
