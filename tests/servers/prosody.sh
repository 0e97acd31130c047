#!/bin/bash
# tests/servers/prosody.sh start|stop DIR
#
# start: a private Prosody 0.12 for xmpp.test on free loopback ports, in DIR
#        (created; a fresh temporary directory from the caller), then writes
#        DIR/env (see README.md). BAD_CERT=NAME serves certs/NAME.pem instead
#        of the good certificate (NAME: wrongname expired notyet selfsigned
#        unknownca leafsigned v1intermediate wildcard srvid xmppaddr).
#        PROSODY_LOGLEVEL=debug|info|warn (default info).
#        PROSODY_PUSH=1: also load mod_cloud_notify (XEP-0357, prosody-modules).
#        PROSODY_UPLOAD_HOST=NAME: serve the upload component's HTTP on host
#        NAME (e.g. localhost) so that its URLs work on loopback (HTTP requests
#        for 127.0.0.1 go to the VirtualHost, not to the component).
# stop:  stops the server recorded in DIR (by PID) and removes DIR.
set -euo pipefail

NAME=prosody
SERVER_USER=prosody
SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
. "$SERVERS_DIR/lib.sh"

MODDIR=/usr/lib/prosody/modules
BAD_NAMES="wrongname expired notyet selfsigned unknownca leafsigned v1intermediate wildcard srvid xmppaddr"

usage() {
  echo "usage: [BAD_CERT=NAME] $0 start|stop DIR" >&2
  exit 2
}

# patch_modules PLUGINDIR: private patched copies of mod_sasl2 and mod_c2s
# for Prosody 0.12 (see SERVERS.md), and of the modules that inline
# features need (patch_inline_modules). Prints nothing; returns 1 if the
# installed sources no longer look as expected.
patch_modules() {
  local pd=$1
  mkdir -p "$pd/mod_sasl2"
  [ -f "$MODDIR/mod_sasl2/mod_sasl2.lua" ] || return 1
  [ "$(grep -c 'local info = origin.conn:ssl_info();' "$MODDIR/mod_sasl2/mod_sasl2.lua")" = 1 ] || return 1
  [ "$(grep -c 'fire_event("stream-features", { origin = session, features = features });' "$MODDIR/mod_c2s.lua")" = 1 ] || return 1
  # 1. mod_sasl2: 0.12's connection object has no ssl_info(); ask LuaSec.
  sed 's/local info = origin.conn:ssl_info();/local info = origin.conn.ssl_info and origin.conn:ssl_info(); if not info then local sock = origin.conn:socket(); info = sock and sock.info and sock:info(); end/' \
    "$MODDIR/mod_sasl2/mod_sasl2.lua" >"$pd/mod_sasl2/mod_sasl2.lua"
  # 2. mod_c2s: pass the stream header to stream-features (mod_sasl2_fast).
  sed 's/fire_event("stream-features", { origin = session, features = features });/fire_event("stream-features", { origin = session, features = features, stream = attr });/' \
    "$MODDIR/mod_c2s.lua" >"$pd/mod_c2s.lua"
  patch_inline_modules "$pd"
}

# patch_inline_modules PLUGINDIR: what the inline features (Bind2 with SM,
# SASL2 resumption, FAST logins) need on 0.12, where they otherwise die in
# a Lua error and never answer <authenticate/>:
#  3. mod_sasl2_fast: util.stanza has no get_child_attr(), and
#     util.datetime takes only integral times (the token expiry is not);
#  4. mod_sasl2_sm, mod_sasl2_bind2: util.stanza has no add_error(): the
#     <failed/> carries the condition element alone;
#  5. mod_smacks: 0.12 has no do_enable()/do_resume() (what mod_sasl2_sm
#     calls); a private copy gets them, built on 0.12's handle_enable() and
#     handle_resume(): their reply becomes the result, and what they send
#     after it (stanzas re-sent on resumption, an <r/>) is held back until
#     finish(), after the SASL2 <success/>; the resumed session takes
#     over the authentication state the later success hooks read.
patch_inline_modules() {
  local pd=$1 m
  for m in sasl2_fast sasl2_sm sasl2_bind2; do
    [ -f "$MODDIR/mod_$m/mod_$m.lua" ] || return 1
    mkdir -p "$pd/mod_$m"
  done
  [ "$(grep -c 'auth:get_child_attr("user-agent", nil, "id")' "$MODDIR/mod_sasl2_fast/mod_sasl2_fast.lua")" = 1 ] || return 1
  [ "$(grep -c 'dt.datetime(token_info.expires_at)' "$MODDIR/mod_sasl2_fast/mod_sasl2_fast.lua")" = 1 ] || return 1
  grep -q '^function handle_enable(session, stanza, xmlns_sm)$' "$MODDIR/mod_smacks.lua" || return 1
  grep -q '^function handle_resume(session, stanza, xmlns_sm)$' "$MODDIR/mod_smacks.lua" || return 1
  sed -e 's/auth:get_child_attr("user-agent", nil, "id")/(auth:get_child("user-agent") or { attr = {} }).attr.id/' \
    -e 's/dt.datetime(token_info.expires_at)/dt.datetime(math.floor(token_info.expires_at))/' \
    "$MODDIR/mod_sasl2_fast/mod_sasl2_fast.lua" >"$pd/mod_sasl2_fast/mod_sasl2_fast.lua"
  for m in sasl2_sm sasl2_bind2; do
    sed 's/:add_error(err)/:tag(err and err.condition or "undefined-condition", { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" }):up()/' \
      "$MODDIR/mod_$m/mod_$m.lua" >"$pd/mod_$m/mod_$m.lua"
  done
  {
    cat "$MODDIR/mod_smacks.lua"
    cat <<'LUA'

-- Added by the libxmpp test harness (tests/servers/prosody.sh).
local sasl2_errors = require "util.error";

local function sasl2_held(session, handler, stanza)
	local out, saved = {}, session.send;
	local function hold(t) out[#out + 1] = t; return true; end
	session.send = hold;
	local ok, err = pcall(handler, session, stanza, xmlns_sm3);
	if session.send == hold then session.send = saved; end
	if not ok then error(err); end
	return out, saved;
end

local function sasl2_failure(reply)
	local cond = reply and reply.tags[1] and reply.tags[1].name or "undefined-condition";
	return nil, sasl2_errors.new({ condition = cond }, { h = reply and tonumber(reply.attr.h) });
end

function do_enable(session, stanza)
	local out = sasl2_held(session, handle_enable, stanza);
	local reply = out[1];
	if not reply or reply.name ~= "enabled" then return sasl2_failure(reply); end
	return { id = reply.attr.id; resume_max = reply.attr.max; finish = function () end };
end

function do_resume(session, stanza)
	local original = session_registry[jid.join(session.username, session.host, stanza.attr.previd)];
	local out, saved = sasl2_held(session, handle_resume, stanza);
	local reply = out[1];
	if original and original.send ~= saved and original.conn == session.conn then
		-- what handle_resume did with session.send, with the real function
		original.send = saved;
		original.send.session = original;
		original.send.filter = original.filter;
	end
	if not reply or reply.name ~= "resumed" then return sasl2_failure(reply); end
	-- the SASL2 success hooks that run next (mod_sasl2_fast) read these
	-- from the resumed session
	original.sasl_handler = session.sasl_handler;
	original.client_id = session.client_id;
	original.fast_token_request = session.fast_token_request;
	return { session = original; id = stanza.attr.previd; finish = function ()
		for i = 2, #out do original.rawsend(out[i]); end
	end };
end
LUA
  } >"$pd/mod_smacks.lua"
}

write_config() {
  local cfg=$1 cert=$2 key=$3 sasl2_mods="" comp=""
  [ "$SASL2_OK" = 1 ] && sasl2_mods='"sasl2"; "sasl2_bind2"; "sasl2_sm"; "sasl2_fast";'
  # COMPONENT=1: an external XEP-0114 component echo.DOMAIN on COMP_PORT
  [ -n "${COMP_PORT:-}" ] && comp="Component \"echo.$DOMAIN\"
  component_secret = \"$COMP_SECRET\""
  [ "${PROSODY_PUSH:-0}" = 1 ] && sasl2_mods="$sasl2_mods \"cloud_notify\";"
  local upload_http=""
  [ -n "${PROSODY_UPLOAD_HOST:-}" ] && upload_http="  http_host = \"$PROSODY_UPLOAD_HOST\"
  http_external_url = \"http://$PROSODY_UPLOAD_HOST:$HTTP_PORT/\""
  local https_if=""
  [ -n "${HTTPS_PORT:-}" ] && https_if='"127.0.0.1"'
  cat >"$cfg" <<EOF
-- generated by tests/servers/prosody.sh
pidfile = "$DIR/prosody.pid"
data_path = "$DIR/data"
plugin_paths = { "$DIR/plugins" }
certificates = "$DIR/nocerts"
log = { { levels = { min = "${PROSODY_LOGLEVEL:-info}" }, to = "file", filename = "$SERVER_LOG" } }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $C2S_PORT }
c2s_direct_tls_ports = { $TLS_PORT }
s2s_ports = { }
component_ports = { ${COMP_PORT:-} }
component_interfaces = { "127.0.0.1" }
http_ports = { $HTTP_PORT }
http_interfaces = { "127.0.0.1" }
https_ports = { ${HTTPS_PORT:-} }
https_interfaces = { $https_if }
https_ssl = { certificate = "$cert"; key = "$key" }
http_external_url = "http://127.0.0.1:$HTTP_PORT/"
network_settings = { nagle = false }

ssl = { certificate = "$cert"; key = "$key" }
c2s_direct_tls_ssl = { certificate = "$cert"; key = "$key" }
c2s_require_encryption = true
allow_unencrypted_plain_auth = false
s2s_require_encryption = true
consider_websocket_secure = true
consider_bosh_secure = true

authentication = "internal_hashed"
default_iteration_count = $ITERATIONS
default_storage = "internal"
storage = { archive = "memory"; muc_log = "memory" }
-- the memory store keeps 1000 messages per archive by default: too few for
-- the throughput tests, whose catch-up must find its last id again
storage_archive_item_limit = 100000
default_archive_policy = true
archive_expires_after = "never"

allow_registration = true
min_seconds_between_registrations = 0
registration_throttle_max = 0
admins = { "admin@$DOMAIN" }

modules_enabled = {
  "roster"; "saslauth"; "tls"; "disco"; "register";
  "carbons"; "pep"; "private"; "blocklist"; "bookmarks";
  "vcard4"; "vcard_legacy"; "smacks"; "csi_simple"; "mam";
  "ping"; "version"; "time"; "uptime"; "lastactivity"; "adhoc";
  "posix"; "http"; "websocket"; "bosh";
  $sasl2_mods
}
modules_disabled = { "s2s"; "dialback" }

VirtualHost "$DOMAIN"
  ssl = { certificate = "$cert"; key = "$key" }

Component "conference.$DOMAIN" "muc"
  modules_enabled = { "muc_mam" }
  restrict_room_creation = false
  max_history_messages = 50

Component "upload.$DOMAIN" "http_file_share"
  http_file_share_size_limit = 10*1024*1024
$upload_http

$comp
EOF
}

start() {
  need setpriv prosody "$PY" certtool
  getent passwd "$SERVER_USER" >/dev/null || die "no '$SERVER_USER' user (apt-get install prosody)"
  [ "$(id -u)" = 0 ] || die "must run as root (Prosody is started as the $SERVER_USER user)"
  DIR=$(make_absolute "$1")
  DOMAIN=$XMPP_DOMAIN_DEFAULT
  ITERATIONS=4096
  SERVER_LOG=$DIR/prosody.log
  if [ -f "$DIR/server.pid" ] && pid_is_ours "$(cat "$DIR/server.pid")" "$DIR"; then
    die "a server is already running in $DIR"
  fi
  local t0 cert key
  t0=$(now_ms)

  stop_system_service prosody /run/prosody/prosody.pid
  phase "checks done"

  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd -P)
  # from here on, a failure removes what we made
  SERVER_PID=""
  trap 'on_fail' EXIT

  mkdir -p "$DIR/data" "$DIR/nocerts" "$DIR/plugins"
  install_certs "$DIR/certs" "$DOMAIN"
  if [ -n "${BAD_CERT:-}" ]; then
    case " $BAD_NAMES " in
      *" $BAD_CERT "*) ;;
      *) die "unknown BAD_CERT '$BAD_CERT' (one of: $BAD_NAMES)" ;;
    esac
    cert=$DIR/certs/$BAD_CERT.pem
    [ -f "$DIR/certs/$BAD_CERT-chain.pem" ] && cert=$DIR/certs/$BAD_CERT-chain.pem
    key=$DIR/certs/$BAD_CERT-key.pem
  else
    cert=$DIR/certs/server.pem
    key=$DIR/certs/server-key.pem
  fi

  phase "certificates"
  SASL2_OK=1
  if ! patch_modules "$DIR/plugins"; then
    echo "prosody.sh: warning: installed mod_sasl2/mod_c2s differ from what the patches expect; SASL2/FAST disabled" >&2
    SASL2_OK=0
    rm -rf "$DIR/plugins"/*
  fi

  # accounts, and the ports for the first attempt
  local ports attempt ok=0
  # PROSODY_HTTPS=1: a fourth port serves HTTPS (wss://, https BOSH)
  local nports=3
  [ "${PROSODY_HTTPS:-0}" = 1 ] && nports=4
  HTTPS_PORT=
  # shellcheck disable=SC2046
  ports=$("$PY" "$HELPER" prosody-prepare "$DIR/data" "$DOMAIN" "$ITERATIONS" "$nports" $(account_args))
  phase "accounts and ports"
  if [ "${COMPONENT:-0}" = 1 ]; then
    COMP_PORT=$("$PY" "$HELPER" ports 1)
    COMP_SECRET=comp-secret-$RANDOM$RANDOM
  fi
  for attempt in 1 2 3; do
    [ "$attempt" = 1 ] || ports=$("$PY" "$HELPER" ports "$nports")
    read -r C2S_PORT TLS_PORT HTTP_PORT HTTPS_PORT <<<"$ports"
    write_config "$DIR/prosody.cfg.lua" "$cert" "$key"
    : >"$SERVER_LOG"
    chown -R "$SERVER_USER": "$DIR"
    chmod 755 "$DIR"
    [ "$attempt" = 1 ] && check_access "$DIR/prosody.cfg.lua"
    setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" --init-groups \
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      /usr/bin/prosody --config "$DIR/prosody.cfg.lua" -F \
      </dev/null >>"$DIR/prosody.stdout" 2>&1 &
    SERVER_PID=$!
    echo "$SERVER_PID" >"$DIR/server.pid"
    phase "prosody launched"
    # shellcheck disable=SC2086
    if wait_ports "$SERVER_PID" "$START_TIMEOUT" "$C2S_PORT" "$TLS_PORT" "$HTTP_PORT" ${COMP_PORT:-} $HTTPS_PORT &&
      ! grep -q 'Failed to open server port' "$SERVER_LOG"; then
      ok=1
      break
    fi
    if grep -q 'Failed to open server port\|already in use' "$SERVER_LOG" "$DIR/prosody.stdout" 2>/dev/null; then
      echo "prosody.sh: port clash, retrying with other ports" >&2
      kill_wait "$SERVER_PID" "$STOP_TIMEOUT" || true
      SERVER_PID=""
      continue
    fi
    break
  done
  [ "$ok" = 1 ] || {
    echo "prosody.sh: prosody did not come up" >&2
    log_tail "$SERVER_LOG" "$DIR/prosody.stdout"
    exit 1
  }
  if grep -q 'Error loading module\|Unable to load module\|Failed to load module' "$SERVER_LOG"; then
    echo "prosody.sh: a module failed to load" >&2
    log_tail "$SERVER_LOG"
    exit 1
  fi

  phase "ports open"
  EXTRA_ENV="XMPP_UPLOAD_DOMAIN=upload.$DOMAIN
XMPP_SERVER_CERT='$cert'
XMPP_WEBSOCKET_URL=ws://127.0.0.1:$HTTP_PORT/xmpp-websocket
XMPP_BOSH_URL=http://127.0.0.1:$HTTP_PORT/http-bind
export XMPP_UPLOAD_DOMAIN XMPP_SERVER_CERT XMPP_WEBSOCKET_URL XMPP_BOSH_URL"
  [ -n "${COMP_PORT:-}" ] && EXTRA_ENV="$EXTRA_ENV
XMPP_COMPONENT_DOMAIN=echo.$DOMAIN
XMPP_COMPONENT_PORT=$COMP_PORT
XMPP_COMPONENT_SECRET=$COMP_SECRET
export XMPP_COMPONENT_DOMAIN XMPP_COMPONENT_PORT XMPP_COMPONENT_SECRET"
  if [ -n "$HTTPS_PORT" ]; then
    EXTRA_ENV="$EXTRA_ENV
XMPP_HTTPS_PORT=$HTTPS_PORT
XMPP_WEBSOCKET_TLS_URL=wss://$DOMAIN:$HTTPS_PORT/xmpp-websocket
export XMPP_HTTPS_PORT XMPP_WEBSOCKET_TLS_URL"
  fi
  write_env "$DIR/env"
  phase "env written"
  trap - EXIT
  if [ -n "${HARNESS_VERBOSE:-}" ]; then
    echo "prosody started in $(($(now_ms) - t0)) ms: pid $SERVER_PID, c2s $C2S_PORT, tls $TLS_PORT, http $HTTP_PORT" >&2
  fi
}

on_fail() {
  local rc=$?
  [ "$rc" = 0 ] && return
  if [ -n "${SERVER_PID:-}" ]; then
    kill_wait "$SERVER_PID" "$STOP_TIMEOUT" || true
  fi
  if [ -n "${KEEP_FAILED:-}" ]; then
    echo "prosody.sh: start failed; kept $DIR (KEEP_FAILED set)" >&2
  else
    SERVER_USER=$SERVER_USER common_stop "$DIR"
  fi
  exit "$rc"
}

[ $# -eq 2 ] || usage
case $1 in
  start) start "$2" ;;
  stop) common_stop "$2" ;;
  *) usage ;;
esac
