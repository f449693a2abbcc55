#!/usr/bin/env bash
# Creates ./.venv with Python 3.13 and installs the locked dependencies.
#   scripts/bootstrap.sh app   - what `make run` needs
#   scripts/bootstrap.sh test  - plus test tools, Debian chromium and a CJK font
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"
want="$(cat .python-version)"

find_python() {
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root)"
    if [ -x "$root/versions/$want/bin/python" ]; then echo "$root/versions/$want/bin/python"; return; fi
  fi
  for candidate in "python${want%.*}" python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(sys.version_info < (3, 12))"; then
      command -v "$candidate"; return
    fi
  done
  echo "Python $want (or any 3.12+) is required; install it with pyenv: pyenv install $want" >&2
  exit 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import sys; sys.exit(sys.version_info < (3, 12))"; then
  rm -rf .venv
  "$(find_python)" -m venv .venv
fi

lock="requirements/$profile.lock"
stamp=".venv/.installed-$profile"
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  # The source tree goes on the path with a .pth file instead of an editable install: no build backend needed.
  site="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$PWD/src" > "$site/refill-src.pth"
  touch "$stamp"
fi

# Receipts (WeasyPrint) need Pango and, for Chinese, a CJK font; tests also need chromium and PostgreSQL.
need=()
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qiE "WenQuanYi|Noto Sans CJK" || need+=(fonts-wqy-microhei)
if [ "$profile" = "test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ] || need+=(postgresql)
fi
if [ "$profile" = "test" ]; then
  # Lighthouse (bench/lighthouse.py and its smoke test) runs on Node 20+ from tools/node.
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Please install: sudo apt-get install ${need[*]}" >&2
    [ "$profile" = "test" ] && exit 1
  fi
fi

# Lighthouse and PayPal's published OpenAPI descriptions (tests/paypal_server.py checks requests
# against them), pinned in tools/node/package-lock.json, installed in tools/node/node_modules.
# Without install scripts: only files are needed, and some of the descriptions package's tooling
# dependencies would report usage over the network when installed.
if [ "$profile" = "test" ]; then
  if [ ! -f tools/node/node_modules/.package-lock.json ] || [ tools/node/package-lock.json -nt tools/node/node_modules/.package-lock.json ]; then
    npm ci --prefix tools/node --ignore-scripts --no-audit --no-fund --silent
  fi
fi
