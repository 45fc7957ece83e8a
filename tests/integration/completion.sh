#!/usr/bin/env bash
# zeqvpnctl's shell completion as the build wrote it (from the CLI11
# definition, `zeqvpnctl completion bash|zsh`): the files match what the
# binary prints; bash: COMPREPLY for command lines, run through the function
# `complete -p` names, with and without bash-completion's helpers loaded
# (subcommands, nested subcommands, options, fixed values of positionals and
# options, --opt=value, files, the hidden command left out); peer names from
# a control socket that answers (a stand-in daemon speaking the control
# protocol) and none, with no message and no wait, when nothing answers;
# zsh: `zsh -n`, and the same function driven with compadd, _describe and
# _files replaced by recorders. No namespaces, nothing outside WORK.
set -euo pipefail
BUILD_DIR=${ZEQ_BUILD_DIR:?}
CTL=$BUILD_DIR/cli/zeqvpnctl
BASH_SCRIPT=$BUILD_DIR/cli/zeqvpnctl.bash
ZSH_SCRIPT=$BUILD_DIR/cli/_zeqvpnctl
WORK=$(mktemp -d /tmp/zeqvpn-completion.XXXXXX)
SERVER_PID=
cleanup() {
  local rc=$?
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

for f in "$BASH_SCRIPT" "$ZSH_SCRIPT"; do [ -s "$f" ] || fail "the build wrote no $f"; done
diff <("$CTL" completion bash) "$BASH_SCRIPT" >/dev/null || fail "$BASH_SCRIPT differs from \`zeqvpnctl completion bash\`"
diff <("$CTL" completion zsh) "$ZSH_SCRIPT" >/dev/null || fail "$ZSH_SCRIPT differs from \`zeqvpnctl completion zsh\`"
bash -n "$BASH_SCRIPT" || fail "bash -n $BASH_SCRIPT"
"$CTL" --help | grep -qE '^ +completion ' && fail "the hidden completion command shows in --help"

# A stand-in zeqvpnd on a control socket: answers `peers` with two peers
# (one unnamed: its ZID is offered), counts the requests; gone after 60 s.
python3 - "$WORK/ctl.sock" "$WORK/requests" <<'PY' &
import json, os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(2)
    data = b""
    while b"\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    req = json.loads(data.split(b"\n")[0])
    with open(log, "a") as f:
        f.write(req["cmd"] + "\n")
    peers = [{"name": "alpha", "zid": "zeq-alpha"}, {"name": "", "zid": "zeq-b0b"}]
    c.sendall((json.dumps({"v": 1, "id": req["id"], "ok": True, "result": {"peers": peers}}) + "\n").encode())
    c.close()
PY
SERVER_PID=$!
for _ in $(seq 50); do [ -S "$WORK/ctl.sock" ] && break; sleep 0.1; done
[ -S "$WORK/ctl.sock" ] || fail "the stand-in control socket did not come up"

# bash_complete MODE WORD...: the completions bash offers with the cursor at
# the end of the last WORD ("" for a new word), one per line. MODE plain: the
# script alone, bash splitting `--opt=value` at '=' (COMP_WORDBREAKS) as it
# does; MODE helpers: bash-completion loaded first, as on a Debian system.
# zeqvpnctl is the one the build made (PATH); errors go to WORK/stderr.
bash_complete() {
  local mode=$1
  shift
  (cd "$WORK/files" && PATH="$BUILD_DIR/cli:$PATH" bash --norc --noprofile -c '
    mode=$1; script=$2; shift 2
    if [ "$mode" = helpers ]; then source /usr/share/bash-completion/bash_completion; fi
    source "$script"
    spec=$(complete -p zeqvpnctl) || exit 9
    fn=${spec#*-F }; fn=${fn%% *}
    COMP_LINE="$*"
    if [ "$mode" = plain ]; then
      # bash would split a word at "=": --only=m is --only, =, m.
      COMP_WORDS=()
      for w in "$@"; do
        if [[ $w == --*=* ]]; then COMP_WORDS+=("${w%%=*}" "=" ); [ -n "${w#*=}" ] && COMP_WORDS+=("${w#*=}"); else COMP_WORDS+=("$w"); fi
      done
      [[ ${!#} == --*= ]] && COMP_WORDS[${#COMP_WORDS[@]}-1]="="
    else
      COMP_WORDS=("$@")
    fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_POINT=${#COMP_LINE}
    COMP_TYPE=9
    "$fn" zeqvpnctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"
  ' _ "$mode" "$BASH_SCRIPT" "$@") 2>>"$WORK/stderr"
}

# expect MODE "WANTED..." "UNWANTED..." WORD...: every wanted word offered,
# no unwanted one.
expect() {
  local mode=$1 want=$2 unwanted=$3
  shift 3
  local got
  got=$(bash_complete "$mode" "$@") || fail "completing '$*' ($mode) failed"
  for w in $want; do
    grep -qxF -- "$w" <<< "$got" || fail "completing '$*' ($mode): '$w' not offered; got: $(echo $got)"
  done
  for w in $unwanted; do
    grep -qxF -- "$w" <<< "$got" && fail "completing '$*' ($mode): '$w' offered; got: $(echo $got)"
  done
  return 0
}

mkdir -p "$WORK/files"
touch "$WORK/files/node.crt" "$WORK/files/other.pub"
: > "$WORK/stderr"
modes=(plain)
if [ -f /usr/share/bash-completion/bash_completion ]; then modes+=(helpers); else echo "bash-completion not installed: its mode is not checked"; fi
for mode in "${modes[@]}"; do
  expect $mode "status peers killswitch ca cert version gen-secrets exit cover" "completion" zeqvpnctl ""
  expect $mode "killswitch" "status peers kill" zeqvpnctl kil
  expect $mode "arm disarm status" "on off" zeqvpnctl killswitch ""
  expect $mode "init sign revoke" "show" zeqvpnctl ca ""
  expect $mode "--ca-key --name --public-key --signing-key --address --out --help" "--socket --force" zeqvpnctl ca sign --
  expect $mode "node relay" "" zeqvpnctl ca sign --roles ""
  expect $mode "mesh field" "" zeqvpnctl gen-secrets --only ""
  expect $mode "mesh" "field" zeqvpnctl gen-secrets --only=me
  expect $mode "status" "" zeqvpnctl --json st
  expect $mode "--json --socket --config --help" "--only" zeqvpnctl --
  expect $mode "node.crt" "" zeqvpnctl cert show no
  expect $mode "check" "" zeqvpnctl config ""
  expect $mode "on off status" "alpha" zeqvpnctl -s "$WORK/ctl.sock" cover ""
  # Peer names from the daemon: PEER of up/down/rekey, cover's second word,
  # exit use; the socket option given before the subcommand goes along.
  expect $mode "alpha zeq-b0b" "" zeqvpnctl -s "$WORK/ctl.sock" up ""
  expect $mode "alpha" "zeq-b0b" zeqvpnctl --socket="$WORK/ctl.sock" rekey al
  expect $mode "alpha zeq-b0b" "" zeqvpnctl -s "$WORK/ctl.sock" cover on ""
  expect $mode "alpha zeq-b0b" "" zeqvpnctl -s "$WORK/ctl.sock" exit use ""
  # No daemon there: no peers, no message, no wait.
  start=$(date +%s%N)
  got=$(bash_complete $mode zeqvpnctl -s "$WORK/nothing.sock" down "")
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ -z "$got" ] || fail "completing with no daemon offered: $got"
  [ $ms -lt 1500 ] || fail "completing with no daemon took $ms ms"
done
[ -s "$WORK/stderr" ] && fail "completion wrote to stderr: $(head -5 "$WORK/stderr")"
asked=$(grep -c '^peers$' "$WORK/requests" || true)
[ "$asked" -ge 4 ] || fail "the stand-in daemon was asked for peers $asked times, expected at least 4"
echo "bash: ${#modes[@]} mode(s) checked; the daemon answered $asked peer requests"

if ! command -v zsh >/dev/null; then
  echo "zsh not installed (scripts/install-deps.sh installs it): zsh script not checked"
  echo PASS
  exit 0
fi
zsh -n "$ZSH_SCRIPT" || fail "zsh -n $ZSH_SCRIPT"

# zsh_complete WORD...: the candidates _zeqvpnctl hands to compadd and
# _describe (names only), and FILES when it asks for _files.
zsh_complete() {
  (cd "$WORK/files" && PATH="$BUILD_DIR/cli:$PATH" zsh -f -c '
    compadd() {
      local -a out
      while (( $# )); do
        case $1 in
          (-a) shift; out+=(${(P)1}); shift ;;
          (-[PSJVXx]) shift 2 ;;
          (--) shift; out+=("$@"); break ;;
          (-*) shift ;;
          (*) out+=("$1"); shift ;;
        esac
      done
      print -l -- $out
    }
    _describe() {
      [[ $1 == -t ]] && shift 2
      shift
      local -a items
      items=(${(P)1})
      print -l -- ${items%%:*}
    }
    _files() { print FILES; }
    compset() { return 0; }
    source "$1" >/dev/null   # defines the functions (and runs once with no words)
    shift
    words=("$@")
    CURRENT=$#
    _zeqvpnctl
  ' _ "$ZSH_SCRIPT" "$@") 2>>"$WORK/stderr"
}

zsh_expect() {
  local want=$1 unwanted=$2
  shift 2
  local got
  got=$(zsh_complete "$@") || true
  for w in $want; do
    grep -qxF -- "$w" <<< "$got" || fail "zsh completing '$*': '$w' not offered; got: $(echo $got)"
  done
  for w in $unwanted; do
    grep -qxF -- "$w" <<< "$got" && fail "zsh completing '$*': '$w' offered; got: $(echo $got)"
  done
  return 0
}
zsh_expect "status peers killswitch ca cert version" "completion" zeqvpnctl ""
zsh_expect "arm disarm status" "init" zeqvpnctl killswitch ""
zsh_expect "init sign revoke" "" zeqvpnctl ca ""
zsh_expect "--ca-key --name --out --help" "--socket" zeqvpnctl ca sign --
zsh_expect "mesh field" "" zeqvpnctl gen-secrets --only ""
zsh_expect "FILES" "" zeqvpnctl cert show ""
zsh_expect "FILES" "" zeqvpnctl ca sign --out ""
zsh_expect "alpha zeq-b0b" "" zeqvpnctl -s "$WORK/ctl.sock" up ""
zsh_expect "alpha zeq-b0b" "on off" zeqvpnctl -s "$WORK/ctl.sock" cover on ""
got=$(zsh_complete zeqvpnctl -s "$WORK/nothing.sock" down "") || true  # nothing offered: status 1
[ -z "$got" ] || fail "zsh completing with no daemon offered: $got"
[ -s "$WORK/stderr" ] && fail "zsh completion wrote to stderr: $(head -5 "$WORK/stderr")"
echo "zsh: syntax and candidates checked"
echo PASS
