#!/usr/bin/python3
"""Plays systemd with a socket unit, for the tests: binds and listens on the addresses given (as ListenStream= does),
keeps them for as long as it runs, and starts the command given with them as fd 3, 4, ... with LISTEN_FDS,
LISTEN_PID (the started process's own pid, as systemd sets it) and LISTEN_FDNAMES, as often as it is told to.

    socket-holder.py '[{"unix": "/path/app.sock"}, {"tcp": ["127.0.0.1", 8000]}]' NAMES -- COMMAND ARGS...

Reads commands on stdin, one per line: "start" (fork, put the sockets on fd 3.., exec COMMAND with its stdout and
stderr on the holder's stderr), "exit". Writes JSON lines on stdout: {"listening": true} once every socket listens, {"started": PID}, {"exited": PID, "code": N,
"signal": N}. It never accepts a connection: connections wait in the backlog while no worker accepts.
"""
import json
import os
import socket
import sys
import threading

BACKLOG = 1024
lock = threading.Lock()


def say(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def listen(spec):
    if "unix" in spec:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(spec["unix"])
        os.chmod(spec["unix"], 0o666)
    else:
        host, port = spec["tcp"]
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
    s.listen(BACKLOG)
    return s


def start(sockets, names, argv):
    pid = os.fork()
    if pid == 0:
        try:
            # Out of the way first, then onto 3, 4, ...: a socket may already sit on one of those numbers.
            high = [os.dup(s.fileno()) for s in sockets]
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i, inheritable=True)
            env = dict(os.environ, LISTEN_FDS=str(len(sockets)), LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=":".join(names))
            # This process's stdout is its protocol: the command's output goes to stderr.
            os.dup2(2, 1)
            os.closerange(3 + len(sockets), 1024)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    say({"started": pid})

    def reap():
        _, status = os.waitpid(pid, 0)
        say({"exited": pid, "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
             "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None})

    threading.Thread(target=reap, daemon=True).start()


def main():
    specs = json.loads(sys.argv[1])
    names = sys.argv[2].split(":")
    argv = sys.argv[sys.argv.index("--") + 1:]
    sockets = [listen(spec) for spec in specs]
    say({"listening": True})
    for line in sys.stdin:
        command = line.strip()
        if command == "start":
            start(sockets, names, argv)
        elif command == "exit":
            break
    for spec in specs:
        if "unix" in spec:
            try:
                os.unlink(spec["unix"])
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
