#!/usr/bin/env bash
# Installs the system libraries Rehearse links against, only when missing:
# GSL (statistics), SQLite (trace store and results), zlib (gzip-compressed logs), and git,
# which the local-git driver and its tests run.
set -euo pipefail
# Extra packages a make target needs may be given as arguments (check-deploy: python3-venv).
needed=(libgsl-dev libsqlite3-dev zlib1g-dev git "$@")
# CI also renders the HTML report headless (ReportRenderingTests; skipped where chromium is absent).
[ -n "${CI:-}" ] && needed+=(chromium)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
