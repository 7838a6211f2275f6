#!/usr/bin/env bash
# Opt-in check of the README as a newcomer meets it: a fresh clone, a clean HOME, the
# quickstart's install line exactly as written, then the first steps in a vault of one's own
# (init, index, hooks, a commit the hook reconciles). Prints the installed binary's size.
#
#   scripts/try-readme-install.sh            # reuses ./target for the build (one target dir)
#   FRESH_TARGET=1 scripts/try-readme-install.sh   # builds from nothing, as a new user would
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone -q "$repo" "$work/exo"
# The toolchain and the registry cache stay where they are; everything else is a new HOME.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$work/home"
mkdir -p "$HOME"
export CARGO_INSTALL_ROOT="$HOME/.cargo"           # where rustup's ~/.cargo/bin would be
export PATH="$CARGO_INSTALL_ROOT/bin:$(dirname "$(command -v cargo)"):/usr/local/bin:/usr/bin:/bin"
export CARGO_HOME="${CARGO_HOME:-$(dirname "$(dirname "$(command -v cargo)")")}"   # the registry cache
if [ -z "${FRESH_TARGET:-}" ]; then export CARGO_TARGET_DIR="$repo/target"; fi
export GIT_AUTHOR_NAME="New Comer" GIT_AUTHOR_EMAIL="new@example.com"
export GIT_COMMITTER_NAME="New Comer" GIT_COMMITTER_EMAIL="new@example.com"
if command -v exo >/dev/null 2>&1; then echo "an exo is already on PATH: $(command -v exo)" >&2; exit 1; fi

cd "$work/exo"
quickstart=$(awk '/^```sh$/{getline; print; exit}' README.md)
echo "== $quickstart"
bash -c "$quickstart"

echo "== installed: $(command -v exo), $(du -h "$(command -v exo)" | cut -f1) ($(stat -c %s "$(command -v exo)") bytes)"
exo --version

mkdir -p "$HOME/notes" && cd "$HOME/notes"
git init -q -b main
exo init && exo index --quiet && exo hooks install
printf '# First\n\nA first note, linking to [[Second]].\n' > first.md
git add -A
out=$(git commit -q -m "first note" 2>&1)
echo "$out"
case "$out" in *"index reconciled"*) ;; *) echo "FAIL: the post-commit hook did not reconcile" >&2; exit 1 ;; esac
exo status
echo "README steps: OK"
