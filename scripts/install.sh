#!/usr/bin/env bash
# Installs or upgrades edge-agent on Debian / Raspberry Pi OS as a systemd service.
#
#   sudo scripts/install.sh              # from a source checkout or an unpacked npm package
#   sudo scripts/install.sh --no-start   # install, enable, but do not (re)start
#   DESTDIR=/tmp/root scripts/install.sh --no-deps   # stage into a directory (packaging, CI)
#
# Layout: code in /opt/edge-agent, config in /etc/edge-agent (never overwritten on upgrade),
# data in /var/lib/edge-agent, unit /etc/systemd/system/edge-agent.service, user `edge-agent`
# in group `dialout`. With DESTDIR set nothing outside DESTDIR is touched: no useradd, no chown,
# no systemctl.
set -euo pipefail

PREFIX=/opt/edge-agent
CONFDIR=/etc/edge-agent
DATADIR=/var/lib/edge-agent
UNITDIR=/etc/systemd/system
BINDIR=/usr/local/bin
SERVICE_USER=edge-agent
DESTDIR=${DESTDIR:-}
START=1
DEPS=1
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "options: --prefix DIR --confdir DIR --datadir DIR --user NAME --no-start --no-deps --help"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --confdir) CONFDIR=$2; shift 2 ;;
    --datadir) DATADIR=$2; shift 2 ;;
    --user) SERVICE_USER=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    --no-deps) DEPS=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
staged() { [ -n "$DESTDIR" ]; }

# ---- preconditions ---------------------------------------------------------------------------------
[ -f "$SRC/package.json" ] || die "run me from an edge-agent checkout or package ($SRC has no package.json)"
[ -f "$SRC/dist/main.js" ] || die "$SRC/dist/main.js is missing: build first with 'npm ci && npm run build'"
[ -f "$SRC/deploy/edge-agent.service" ] || die "$SRC/deploy/edge-agent.service is missing"
if ! staged && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo), or set DESTDIR to stage into a directory"; fi
NODE=$(command -v node || true)
[ -n "$NODE" ] || die "node not found: install Node.js 20 or newer (https://nodejs.org or 'apt-get install nodejs')"
"$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=18)?0:1)' ||
  die "Node.js $("$NODE" --version) is too old: edge-agent needs 20.18 or newer"
VERSION=$("$NODE" -p 'require(process.argv[1]).version' "$SRC/package.json")
ROOT=$DESTDIR
say "installing edge-agent $VERSION into ${DESTDIR:-/}${PREFIX} (node: $NODE)"

# ---- user ---------------------------------------------------------------------------------------
if ! staged; then
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    say "creating system user $SERVICE_USER"
    useradd --system --user-group --home-dir "$DATADIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  # Serial adapters (/dev/ttyUSB*, /dev/ttyAMA*) belong to dialout.
  getent group dialout >/dev/null && usermod -a -G dialout "$SERVICE_USER"
fi

# ---- code: build the new tree beside the old one, then swap, so a failed upgrade changes nothing --
NEW="$ROOT$PREFIX.new"
rm -rf "$NEW"
mkdir -p "$NEW"
cp -R "$SRC/dist" "$NEW/dist"
cp "$SRC/package.json" "$NEW/"
[ -f "$SRC/package-lock.json" ] && cp "$SRC/package-lock.json" "$NEW/"
for f in README.md LICENSE; do [ -f "$SRC/$f" ] && cp "$SRC/$f" "$NEW/"; done
mkdir -p "$NEW/deploy" && cp "$SRC/deploy/edge-agent.service" "$NEW/deploy/"
mkdir -p "$NEW/scripts" && cp "$SRC/scripts/install.sh" "$NEW/scripts/"
# docs/ is the manual the unit's Documentation= points at.
for d in config rules hooks tasks docs; do [ -d "$SRC/$d" ] && cp -R "$SRC/$d" "$NEW/$d"; done
chmod 0755 "$NEW/dist/main.js"
if [ "$DEPS" -eq 1 ]; then
  command -v npm >/dev/null || die "npm not found (it comes with Node.js)"
  say "installing production dependencies (builds better-sqlite3 and serialport for this machine)"
  # --ignore-scripts skips `prepare` (needs the dev toolchain); the native modules are rebuilt explicitly.
  (cd "$NEW" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund &&
    npm rebuild better-sqlite3 @serialport/bindings-cpp --no-audit --no-fund) ||
    die "npm failed; on a Pi install the build tools first: apt-get install -y python3 make g++"
  "$NODE" -e "require('$NEW/node_modules/better-sqlite3')(':memory:').close()" ||
    die "better-sqlite3 does not load on this machine"
fi
if [ -d "$ROOT$PREFIX" ]; then
  rm -rf "$ROOT$PREFIX.old"
  mv "$ROOT$PREFIX" "$ROOT$PREFIX.old"
fi
mv "$NEW" "$ROOT$PREFIX"
mkdir -p "$ROOT$BINDIR"
ln -sfn "$PREFIX/dist/main.js" "$ROOT$BINDIR/edge-agent"

# ---- config: created on first install only, never overwritten -----------------------------------
mkdir -p "$ROOT$CONFDIR/rules" "$ROOT$CONFDIR/hooks" "$ROOT$CONFDIR/tasks" "$ROOT$CONFDIR/notify" "$ROOT$DATADIR"
FIRST=0
if [ ! -f "$ROOT$CONFDIR/agent.json" ]; then
  FIRST=1
  say "writing $CONFDIR/agent.json (first install)"
  "$NODE" -e '
    const fs = require("fs");
    const [src, out, data, conf] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(src, "utf8"));
    c.dataDir = data; c.rulesDir = conf + "/rules"; c.hooksDir = conf + "/hooks"; c.tasksDir = conf + "/tasks";
    // In a directory of its own: the local API rewrites it atomically (temp file beside it, rename).
    c.notify = { ...(c.notify || {}), recipientsFile: conf + "/notify/recipients.json" };
    fs.writeFileSync(out, JSON.stringify(c, null, 2) + "\n");
  ' "$SRC/config/agent.json" "$ROOT$CONFDIR/agent.json" "$DATADIR" "$CONFDIR"
  for d in rules hooks tasks; do
    if [ -d "$SRC/$d" ] && [ -z "$(ls -A "$ROOT$CONFDIR/$d")" ]; then cp -R "$SRC/$d/." "$ROOT$CONFDIR/$d/"; fi
  done
  if [ -f "$SRC/config/recipients.json" ] && [ ! -f "$ROOT$CONFDIR/notify/recipients.json" ]; then
    cp "$SRC/config/recipients.json" "$ROOT$CONFDIR/notify/recipients.json"
  fi
else
  say "keeping $CONFDIR/agent.json; the new default is $CONFDIR/agent.json.dist"
  cp "$SRC/config/agent.json" "$ROOT$CONFDIR/agent.json.dist"
fi
if [ ! -f "$ROOT$CONFDIR/edge-agent.env" ]; then
  # Secrets live here (read by systemd), never in agent.json: the config references ${API_TOKEN}.
  TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  umask 077
  cat >"$ROOT$CONFDIR/edge-agent.env" <<ENV
# Environment for edge-agent (secrets). Referenced from agent.json as \${NAME}.
API_TOKEN=$TOKEN
# MQTT_PASSWORD=
# UPSTREAM_TOKEN=
# WORK_ORDER_SECRET=
ENV
  umask 022
  chmod 0600 "$ROOT$CONFDIR/edge-agent.env"
fi

# ---- systemd unit (ours: replaced on upgrade; site changes belong in a drop-in) --------------------
mkdir -p "$ROOT$UNITDIR"
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@CONFDIR@|$CONFDIR|g" -e "s|@DATADIR@|$DATADIR|g" \
  -e "s|@USER@|$SERVICE_USER|g" -e "s|@NODE@|$NODE|g" \
  "$SRC/deploy/edge-agent.service" >"$ROOT$UNITDIR/edge-agent.service"
chmod 0644 "$ROOT$UNITDIR/edge-agent.service"

if staged; then
  say "staged into $DESTDIR (no user, no ownership, no systemctl)"
  exit 0
fi

# ---- ownership and service ----------------------------------------------------------------------
chown root:"$SERVICE_USER" "$CONFDIR" "$CONFDIR/agent.json" "$CONFDIR/hooks"
chmod 0750 "$CONFDIR"
chmod 0640 "$CONFDIR/agent.json"
chown -R "$SERVICE_USER":"$SERVICE_USER" "$CONFDIR/rules" "$CONFDIR/tasks" "$CONFDIR/notify" "$DATADIR"
chmod 0750 "$DATADIR"
chown root:root "$CONFDIR/edge-agent.env"
if [ "$FIRST" -eq 1 ]; then
  "$NODE" "$PREFIX/dist/main.js" validate -c "$CONFDIR/agent.json" || say "fix the problems above, then: systemctl restart edge-agent"
fi
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable edge-agent.service >/dev/null
  if [ "$START" -eq 1 ]; then
    systemctl restart edge-agent.service
    say "started: systemctl status edge-agent; logs: journalctl -u edge-agent -f"
  fi
else
  say "systemd is not running here: start it with $NODE $PREFIX/dist/main.js run -c $CONFDIR/agent.json"
fi
say "status page: http://127.0.0.1:8080/ (token: API_TOKEN in $CONFDIR/edge-agent.env)"
