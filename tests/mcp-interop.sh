#!/usr/bin/env bash
# tests/mcp-interop.sh: exo's MCP server against clients we did not write. Opt-in (it downloads
# the official Python SDK from PyPI and the MCP Inspector from npm); not part of `cargo test`.
#
#   cargo build -p exo-cli && bash tests/mcp-interop.sh
#
# 1. The official Python SDK (`mcp` on PyPI, MCP_PY_VERSION, default 2.3.0) over stdio as a
#    2026-07-28 client (mode "auto") and as a legacy one, and over HTTP with the bearer token:
#    lists the tools, calls search, read_note and create_note, and checks the commit author.
# 2. The MCP Inspector CLI (`@modelcontextprotocol/inspector`, INSPECTOR_VERSION, default
#    2.12.0): `tools/list --strict` (its schema portability lint; exit 6 on errors) and a
#    `tools/call`.
#
# Environment: EXO (the exo binary; default target/debug/exo). Exit 0 when every check passed.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
exo=${EXO:-$repo/target/debug/exo}
py_version=${MCP_PY_VERSION:-2.3.0}
inspector_version=${INSPECTOR_VERSION:-2.12.0}
[ -x "$exo" ] || { echo "mcp-interop: no exo at $exo (cargo build -p exo-cli, or set EXO)" >&2; exit 2; }
exo=$(cd "$(dirname "$exo")" && pwd)/$(basename "$exo")

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
say() { echo "mcp-interop: $*"; }

# A git vault: vault-example, committed and indexed.
vault="$work/vault"
cp -r "$repo/vault-example" "$vault"
printf '.exo/\n' > "$vault/.gitignore"
git -C "$vault" init -q -b main
git -C "$vault" add -A
git -C "$vault" -c user.name=interop -c user.email=interop@example.com commit -qm vault-example
(cd "$vault" && "$exo" index --quiet)
export GIT_AUTHOR_NAME=interop GIT_AUTHOR_EMAIL=interop@example.com
export GIT_COMMITTER_NAME=interop GIT_COMMITTER_EMAIL=interop@example.com

failed=0

say "1. Python SDK mcp==$py_version"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "mcp==$py_version"
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$vault" && EXO_MCP_TOKEN="$token" exec "$exo" mcp --http "127.0.0.1:$port" 2> "$work/http.log") &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving" "$work/http.log" 2>/dev/null && break; sleep 0.1; done

cat > "$work/client.py" <<'PY'
import asyncio, json, subprocess, sys
from mcp import Client, StdioServerParameters
from mcp.types import Implementation

EXO, VAULT, URL, TOKEN = sys.argv[1:5]

def author():
    return subprocess.run(["git", "-C", VAULT, "log", "-1", "--format=%an"], capture_output=True, text=True).stdout.strip()

async def exercise(client, label, note):
    tools = await client.list_tools()
    names = sorted(t.name for t in tools.tools)
    print(f"  {label}: {len(names)} tools: {', '.join(names)}")
    hit = await client.call_tool("search", {"query": "spaced repetition", "limit": 1})
    assert not hit.is_error, hit
    print(f"  {label}: search -> {hit.structured_content['hits'][0]['path']}")
    read = await client.call_tool("read_note", {"note": "Spaced Repetition"})
    assert not read.is_error, read
    print(f"  {label}: read_note -> hash {read.structured_content['hash'][:12]}…, {len(read.structured_content['backlinks'])} backlinks")
    bad = await client.call_tool("search", {"q": "x"})
    print(f"  {label}: unknown parameter -> isError={bad.is_error}: {bad.content[0].text}")
    made = await client.call_tool("create_note", {"path": note, "body": f"Written by the Python SDK ({label}).\n"})
    assert not made.is_error, made
    print(f"  {label}: create_note -> {made.structured_content['done']}; commit author {author()!r}")

async def main():
    server = StdioServerParameters(command=EXO, args=["mcp"], cwd=VAULT)
    async with Client(server, client_info=Implementation(name="py-sdk-auto", version="0"), mode="auto") as c:
        await exercise(c, "stdio auto", "inbox/py auto.md")
    async with Client(server, client_info=Implementation(name="py-sdk-legacy", version="0"), mode="legacy") as c:
        await exercise(c, "stdio legacy", "inbox/py legacy.md")
    import httpx2
    from mcp.client.streamable_http import streamable_http_client
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})
    async with Client(streamable_http_client(URL, http_client=http), client_info=Implementation(name="py-sdk-http", version="0"), mode="auto") as c:
        await exercise(c, "http auto", "inbox/py http.md")

asyncio.run(main())
PY
if (cd "$work" && "$work/venv/bin/python" client.py "$exo" "$vault" "http://127.0.0.1:$port/mcp" "$token"); then
    say "Python SDK: ok"
else
    say "Python SDK: FAILED"; failed=1
fi

say "2. MCP Inspector CLI @modelcontextprotocol/inspector@$inspector_version"
inspector=(npx -y "@modelcontextprotocol/inspector@$inspector_version" --cli)
set +e
(cd "$vault" && "${inspector[@]}" "$exo" mcp --method tools/list --strict) > "$work/strict.json" 2> "$work/strict.err"
strict=$?
set -e
say "tools/list --strict: exit $strict"
cat "$work/strict.err"
python3 - "$work/strict.json" <<'PY' || true
import json, sys
text = open(sys.argv[1]).read()
try:
    data = json.loads(text)
    print(f"  {len(data.get('tools', []))} tools listed")
except ValueError:
    print(text[:4000])
PY
[ "$strict" = 0 ] || failed=1
set +e
(cd "$vault" && "${inspector[@]}" "$exo" mcp --method tools/call --tool-name read_note --tool-arg "note=Spaced Repetition") > "$work/call.json" 2>&1
call=$?
set -e
say "tools/call read_note: exit $call"
head -c 400 "$work/call.json"; echo
[ "$call" = 0 ] || failed=1
set +e
"${inspector[@]}" "http://127.0.0.1:$port/mcp" --transport http --header "Authorization: Bearer $token" --method tools/list > "$work/http-list.json" 2>&1
http_list=$?
set -e
say "tools/list over HTTP with the token: exit $http_list"
[ "$http_list" = 0 ] || { head -c 400 "$work/http-list.json"; echo; failed=1; }

[ "$failed" = 0 ] && say "all checks passed" || say "some checks FAILED"
exit "$failed"
