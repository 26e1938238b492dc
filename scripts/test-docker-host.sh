#!/usr/bin/env bash
# A second Docker engine for the tests of remote Docker hosts: a separate "host" in a network
# namespace the script makes (a veth pair on a private /30), running Debian's dockerd with its
# own data, exec root and bridge, serving the Docker API over TLS with certificates the script
# generates. Traffic stays between this machine and that namespace.
#   scripts/test-docker-host.sh start DIR    prints KEY=VALUE lines: HOST (tcp://ADDRESS:2376),
#                                            ADDRESS, CERT_PATH (ca.pem, cert.pem, key.pem for a
#                                            client), SOCKET (the engine's local socket)
#   scripts/test-docker-host.sh stop DIR     stops the engine, removes the namespace, the veth
#                                            and DIR; safe to run twice, and after a failed start
set -euo pipefail

die() { echo "test-docker-host: $*" >&2; exit 1; }
# One name for the namespace and the veth ends, from DIR (interface names: 15 characters at most).
names() {
  local id
  id=$(printf '%s' "$(realpath -m "$1")" | sha256sum | cut -c1-8)
  NS=pmh-$id HOST_IF=pmh$id-h PEER_IF=pmh$id-n
  # A /30 and a bridge subnet of their own, picked from the id, away from Docker's defaults.
  local a=$((16#${id:0:2} % 250 + 1)) b=$((16#${id:2:2} / 4 * 4))
  NET=10.213.$a HOST_IP=10.213.$a.$((b + 1)) PEER_IP=10.213.$a.$((b + 2)) BIP=10.214.$a.1/24
}

certificates() {
  local dir=$1 ip=$2
  mkdir -p "$dir/tls"
  (
    cd "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=protocol-monitoring test CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$ip" -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ip" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=client" -keyout key.pem -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem 2>/dev/null
    chmod 600 ./*key.pem
  )
}

start() {
  local dir=$1
  [[ ! -e $dir ]] || die "$dir exists"
  names "$dir"
  mkdir -p "$dir"
  dir=$(realpath "$dir")
  ip netns add "$NS"
  ip link add "$HOST_IF" type veth peer name "$PEER_IF"
  ip link set "$PEER_IF" netns "$NS"
  ip addr add "$HOST_IP/30" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  ip -n "$NS" addr add "$PEER_IP/30" dev "$PEER_IF"
  ip -n "$NS" link set "$PEER_IF" up
  ip -n "$NS" link set lo up
  certificates "$dir" "$PEER_IP"
  # nsenter, not `ip netns exec`: that remounts /sys, which dockerd then fails on.
  setsid nohup nsenter --net="/var/run/netns/$NS" dockerd \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    --host "unix://$dir/docker.sock" --host "tcp://$PEER_IP:2376" \
    --tlsverify --tlscacert "$dir/tls/ca.pem" --tlscert "$dir/tls/server-cert.pem" --tlskey "$dir/tls/server-key.pem" \
    --bip "$BIP" >"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    DOCKER_HOST=unix://$dir/docker.sock timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
  done
  DOCKER_HOST=unix://$dir/docker.sock timeout 5 docker info >/dev/null 2>&1 || { tail -n 30 "$dir/dockerd.log" >&2; die "the engine did not start (log above)"; }
  printf 'HOST=tcp://%s:2376\nADDRESS=%s\nCERT_PATH=%s\nSOCKET=unix://%s\n' "$PEER_IP" "$PEER_IP" "$dir/tls" "$dir/docker.sock"
}

stop() {
  local dir=$1 pid
  names "$dir"
  if [[ -f $dir/dockerd.pid ]]; then
    pid=$(cat "$dir/dockerd.pid")
    # Its containers first, so that nothing of them outlives the engine.
    DOCKER_HOST=unix://$dir/docker.sock timeout 30 docker ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$dir/docker.sock" docker rm -f >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # Mounts the engine left (overlay, netns files) would keep the folder busy.
  grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$dir"
}

case ${1:-} in
  start | stop) [[ $# == 2 ]] || die "usage: $0 start|stop DIR"; "$1" "$2" ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
