#!/usr/bin/env bash
# Screenshots of the real game window under Xvfb (not the SDL dummy driver), against a throwaway
# local site with the games demo data:
#   docs/img/game.png           the moving square mid-round
#   docs/img/game-bullseye.png  the bullseye mid-round
#   docs/img/game-end.png       the end screen with the verified leaderboard and the player's rank
# Needs Xvfb and ImageMagick's `import` (Debian: apt-get install -y xvfb imagemagick).
#   bash scripts/screenshot_game.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DJANGO_DEBUG=1 DATABASE_URL="sqlite:///$work/db.sqlite3" XDG_CONFIG_HOME="$work/config"
$PY manage.py migrate -v0
$PY manage.py shell -c "import sys; from games.demo import demo_seed; demo_seed(stdout=sys.stdout)"
$PY manage.py runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

mkdir -p docs/img
client="$PY -m games.client --server http://127.0.0.1:$port --user demo-player --autoplay"
export client
xvfb-run -a -s "-screen 0 800x600x24" bash -c '
  set -euo pipefail
  # The first run signs in with the demo password (one line on stdin); later runs use the token.
  echo targets-demo-2024 | $client --mode moving --duration 8 --seed 185 &
  sleep 5; import -window root docs/img/game.png; wait $!
  $client --mode bullseye --duration 5 --seed 21 --linger 5 </dev/null &
  sleep 3.5; import -window root docs/img/game-bullseye.png
  sleep 5; import -window root docs/img/game-end.png; wait $!
'
echo "saved docs/img/game.png, docs/img/game-bullseye.png, docs/img/game-end.png"
