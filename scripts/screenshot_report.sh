#!/usr/bin/env bash
# Screenshot a `tinytorch verify --report DIR` page with headless Chromium; installs nothing.
# Usage: scripts/screenshot_report.sh REPORT_DIR_OR_HTML [OUT.png] [WIDTHxHEIGHT]
# Exit codes: 0 screenshot written, 2 bad arguments, 3 no Chromium on this machine, 1 Chromium failed.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 REPORT_DIR_OR_HTML [OUT.png] [WIDTHxHEIGHT]" >&2
    exit 2
fi
target=$1
[ -d "$target" ] && target="$target/index.html"
if [ ! -f "$target" ]; then
    echo "$0: no report page at '$target'" >&2
    exit 2
fi
out=${2:-$(dirname "$target")/screenshot.png}
size=${3:-1200x3000}

browser=""
for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [ -x "$candidate" ]; then
        browser=$candidate
        break
    fi
done
if [ -z "$browser" ]; then
    echo "$0: Chromium is not installed (looked for /usr/bin/chromium, chromium-browser, google-chrome)" >&2
    exit 3
fi

page="file://$(cd "$(dirname "$target")" && pwd)/$(basename "$target")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
# --no-sandbox: CI containers often run as root, where Chromium's sandbox refuses to start.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$out" "$page" >/dev/null 2>&1 || true
if [ ! -s "$out" ]; then
    echo "$0: $browser wrote no screenshot for $page" >&2
    exit 1
fi
echo "$out"
