#!/usr/bin/env bash
# A second Docker engine for the tests of remote Docker hosts: a separate "host" in a network
# namespace the script makes (a veth pair on a private /30), running Debian's dockerd with its
# own data, exec root and bridge, serving the Docker API over TLS with certificates the script
# generates, and over SSH (Debian's sshd: root logs in with a key the script makes, and a
# session's docker reaches that engine). Traffic stays between this machine and that namespace.
#   scripts/test-docker-host.sh start DIR    prints KEY=VALUE lines: HOST (tcp://ADDRESS:2376),
#                                            ADDRESS, CERT_PATH (ca.pem, cert.pem, key.pem for a
#                                            client), SOCKET (the engine's local socket),
#                                            SSH_HOST (ssh://root@ADDRESS), SSH_KEY (the client's
#                                            private key), SSH_KNOWN_HOSTS (the server's key)
#   scripts/test-docker-host.sh stop DIR     stops the engine, removes the namespace, the veth
#                                            and DIR; safe to run twice, and after a failed start
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

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

# ssh_server DIR: sshd on the namespace's address, port 22. Its binary comes from Debian's .debs
# (openssh-server, libwrap0; cached in .tools/build/sshd), and it runs in a mount namespace of its
# own where /etc/passwd also has the user its privilege separation needs and /run is a fresh
# tmpfs (for /run/sshd): none of this machine's files change.
ssh_server() {
  local dir=$1 bin=$ROOT/.tools/build/sshd deb
  if [[ ! -x $bin/usr/sbin/sshd ]]; then
    # shellcheck source=scripts/lib/debs.sh
    source "$ROOT/scripts/lib/debs.sh"
    rm -rf "$bin.tmp"
    mkdir -p "$bin.tmp"
    for deb in $(fetch_debs openssh-server libwrap0); do dpkg-deb -x "$deb" "$bin.tmp"; done
    rm -rf "$bin"
    mv "$bin.tmp" "$bin"
  fi
  mkdir -m 700 "$dir/ssh"
  ssh-keygen -q -t ed25519 -N '' -C "test host" -f "$dir/ssh/host_key"
  ssh-keygen -q -t ed25519 -N '' -C "test client" -f "$dir/ssh/client_key"
  cp "$dir/ssh/client_key.pub" "$dir/ssh/authorized_keys"
  echo "$PEER_IP $(cut -d' ' -f1,2 "$dir/ssh/host_key.pub")" >"$dir/ssh/known_hosts"
  { cat /etc/passwd; echo "sshd:x:65533:65534:privilege separation:/run/sshd:/usr/sbin/nologin"; } >"$dir/ssh/passwd"
  printf '%s\n' "ListenAddress $PEER_IP:22" "HostKey $dir/ssh/host_key" "AuthorizedKeysFile $dir/ssh/authorized_keys" \
    "PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" \
    "StrictModes no" "PidFile $dir/ssh/sshd.pid" "SetEnv DOCKER_HOST=unix://$dir/docker.sock" >"$dir/ssh/sshd_config"
  # OpenSSH 9.8 and later (Debian 13) run each session by a second binary.
  if [[ -x $bin/usr/lib/openssh/sshd-session ]]; then echo "SshdSessionPath $bin/usr/lib/openssh/sshd-session" >>"$dir/ssh/sshd_config"; fi
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid nohup nsenter --net="/var/run/netns/$NS" unshare --mount --propagation private sh -c '
    mount --bind "$1/ssh/passwd" /etc/passwd && mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd &&
    exec env LD_LIBRARY_PATH="$3" "$2/usr/sbin/sshd" -D -e -f "$1/ssh/sshd_config"' \
    sh "$dir" "$bin" "$(printf '%s:' "$bin"/usr/lib/*-linux-gnu)" >"$dir/sshd.log" 2>&1 </dev/null &
  for _ in $(seq 30); do
    ssh_to "$dir" true 2>/dev/null && return 0
    sleep 0.5
  done
  ssh_to "$dir" true || { tail -n 30 "$dir/sshd.log" >&2; die "sshd did not start (log above)"; }
}
ssh_to() {
  local dir=$1
  shift
  ssh -i "$dir/ssh/client_key" -o UserKnownHostsFile="$dir/ssh/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o ConnectTimeout=5 "root@$PEER_IP" "$@"
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
  ssh_server "$dir"
  printf 'HOST=tcp://%s:2376\nADDRESS=%s\nCERT_PATH=%s\nSOCKET=unix://%s\n' "$PEER_IP" "$PEER_IP" "$dir/tls" "$dir/docker.sock"
  printf 'SSH_HOST=ssh://root@%s\nSSH_KEY=%s\nSSH_KNOWN_HOSTS=%s\n' "$PEER_IP" "$dir/ssh/client_key" "$dir/ssh/known_hosts"
}

stop() {
  local dir=$1 pid
  names "$dir"
  if [[ -f $dir/ssh/sshd.pid ]]; then kill "$(cat "$dir/ssh/sshd.pid")" 2>/dev/null || true; fi
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
