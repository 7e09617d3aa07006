#!/bin/sh
# container-keys.sh — makes the keys the container image (deploy/Dockerfile) expects at /etc/knoop/keys, once, in DIR
# on the host: the server's CURVE key pair (knoopctl keys generate), the data key that seals payloads at rest and the
# pseudonymisation key (32 random bytes each). Each file is mode 0600 and, when run as root, owned by the image's
# user (uid 10001), since knoopd refuses a key another user owns or others can read. Never overwrites a key. The image
# carries it as knoop-container-keys, so no build on the host is needed (operations.md, In a container).
set -eu
dir=${1:?usage: container-keys.sh DIR}
ctl=${KNOOPCTL:-$(command -v knoopctl || echo build/knoopctl)}  # in the image: knoop-container-keys, knoopctl on PATH
umask 077
mkdir -p "$dir"
[ -e "$dir/server.key" ] || "$ctl" keys generate "$dir/server" >/dev/null
for k in data pseudonym; do
    [ -e "$dir/$k.key" ] || head -c 32 /dev/urandom > "$dir/$k.key"
done
chmod 600 "$dir/server.key" "$dir/data.key" "$dir/pseudonym.key"
if [ "$(id -u)" = 0 ]; then
    chown 10001:10001 "$dir" "$dir/server.key" "$dir/data.key" "$dir/pseudonym.key"
else
    echo "container-keys.sh: not root: chown 10001:10001 $dir/*.key before docker run" >&2
fi
echo "keys in $dir (give clients $dir/server.pub)"
