#!/bin/sh
# container-config.sh — writes knoopd.yaml for the container image (deploy/Dockerfile): the network of the given file
# (default deploy/knoopd.yaml) with the daemon settings a container needs: listen on every interface of the container,
# the data in the volume /var/lib/knoop, the metrics endpoint reachable through a published port, and CURVE (a
# non-loopback listen requires it). The keys are mounted read-only at /etc/knoop/keys, apart from the data they protect
# (docs/operations.md, In a container): the server's key pair, the data key that seals payloads at rest and the
# pseudonymisation key; the client public keys live in the volume.
set -eu
in=${1:-deploy/knoopd.yaml}
cat <<'YAML'
daemon:
  listen: tcp://0.0.0.0:5570
  auth: curve
  server_key_file: /etc/knoop/keys/server.key
  data_key_file: /etc/knoop/keys/data.key
  pseudonym_key_file: /etc/knoop/keys/pseudonym.key
  data_dir: /var/lib/knoop
  control_socket: /var/lib/knoop/knoopd.sock
  metrics_listen: 0.0.0.0:9570
  metrics_allow_remote: 1
YAML
# Everything but the file's own daemon: mapping (which ends at the next top-level key).
awk '/^daemon:/ { skip = 1; next } skip && /^[^ #]/ { skip = 0 } !skip' "$in"
