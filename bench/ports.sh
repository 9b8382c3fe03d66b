# Sourced by the bench scripts: loopback ports.
# port_free PORT: nothing accepts connections on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port FROM: the first free port of FROM..FROM+100.
free_port() {
    for p in $(seq "$1" $(($1 + 100))); do
        if port_free "$p"; then echo "$p"; return; fi
    done
    echo "no free port from $1" >&2
    exit 1
}
