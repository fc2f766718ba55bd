#!/usr/bin/python3
"""Pods and clients for the IPVS guest tests (the guest has the host's Python, not the test JVM's classes).

  bed.py serve NAME PORT          answer every line received with NAME, on IPv4 and IPv6 (one pod's server, runs forever)
  bed.py ask HOST PORT COUNT      COUNT fresh connections, one line each; prints each answer or ERR
  bed.py askfrom HOST PORT COUNT SRC,...  COUNT fresh connections from each source address: "SRC answer" (or ERR) each
  bed.py hold HOST PORT DIR       one connection: answer to DIR/first, then on DIR/go to DIR/second, closes on DIR/close
  bed.py loop HOST PORT DIR       fresh connections until DIR/stop exists; then DIR/result: "ok N failed M" + failures
  bed.py talk HOST PORT DIR       one connection: a line now, answer to DIR/answer-1; the same on each DIR/go-N to
                                  DIR/answer-N ("ERR ... after S s" when it failed, then no more); closes on DIR/close
  bed.py userve NAME PORT         UDP: answer every datagram with NAME (runs forever)
  bed.py uhold HOST PORT DIR      UDP, one socket (one source port): a datagram now, answer to DIR/answer-1; on each
                                  DIR/go-N another, to DIR/answer-N as "ANSWER tries=T" (up to 3 tries of 1 s) or ERR
  bed.py ufill HOST PORT N        UDP: N sockets (N flows) send one datagram each; prints "ANSWER COUNT ..." of the replies
  bed.py tfill HOST PORT N DIR    TCP: N connections, one line each, held; DIR/ready gets "ANSWER COUNT ..."; close on DIR/close
"""
import os, socket, sys, threading, time


def serve(name, port):
    # Both families on one socket (IPv4 clients arrive as ::ffff:a.b.c.d), IPv4 alone where IPv6 is off.
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
    except OSError:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
    s.listen(128)

    def handle(c):
        with c, c.makefile("rwb", buffering=0) as f:
            for _ in f:
                f.write((name + "\n").encode())

    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def ask_once(host, port, timeout=3.0, source=None):
    with socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None) as c:
        c.sendall(b"hello\n")
        answer = c.makefile("rb").readline().decode().strip()
        if not answer:
            raise IOError("connection closed without an answer")
        return answer


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def main(argv):
    mode = argv[1]
    if mode == "serve":
        serve(argv[2], int(argv[3]))
    elif mode == "ask":
        for _ in range(int(argv[4])):
            try:
                print(ask_once(argv[2], int(argv[3])), flush=True)
            except Exception as e:
                print("ERR %s" % e, flush=True)
    elif mode == "askfrom":
        # One process for every client address: a process start costs more than a connection in the guest.
        for src in argv[5].split(","):
            for _ in range(int(argv[4])):
                try:
                    print("%s %s" % (src, ask_once(argv[2], int(argv[3]), source=src)), flush=True)
                except Exception as e:
                    print("%s ERR %s" % (src, e), flush=True)
    elif mode == "hold":
        d = argv[4]
        c = socket.create_connection((argv[2], int(argv[3])), timeout=10)
        f = c.makefile("rb")
        c.sendall(b"first\n")
        write(d + "/first", f.readline().decode().strip())
        wait_for(d + "/go")
        try:
            c.sendall(b"second\n")
            write(d + "/second", f.readline().decode().strip() or "ERR closed")
        except Exception as e:
            write(d + "/second", "ERR %s" % e)
        wait_for(d + "/close")
        c.close()
        write(d + "/closed", "yes")
    elif mode == "loop":
        d = argv[4]
        ok, failures = 0, []
        while not os.path.exists(d + "/stop"):
            try:
                ask_once(argv[2], int(argv[3]), timeout=2.0)
                ok += 1
            except Exception as e:
                failures.append("%.3f %s" % (time.time(), e))
            time.sleep(0.02)
        write(d + "/result", "ok %d failed %d\n%s" % (ok, len(failures), "\n".join(failures[:20])))
    elif mode == "talk":
        talk(argv[2], int(argv[3]), argv[4])
    elif mode == "userve":
        userve(argv[2], int(argv[3]))
    elif mode == "uhold":
        uhold(argv[2], int(argv[3]), argv[4])
    elif mode == "ufill":
        print(fill(argv[2], int(argv[3]), int(argv[4]), socket.SOCK_DGRAM)[0])
    elif mode == "tfill":
        summary, socks = fill(argv[2], int(argv[3]), int(argv[4]), socket.SOCK_STREAM)
        write(argv[5] + "/ready", summary)
        wait_for(argv[5] + "/close")
        for c in socks:
            c.close()


def fill(host, port, n, kind):
    """N flows to HOST:PORT, one socket each, one request and answer at a time (a burst would overrun a UDP server's
    buffer); every socket stays open until all are done, so no source port is reused: a summary of who answered,
    and the sockets (the UDP ones closed)."""
    import collections, resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    answers, socks = collections.Counter(), []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, kind)
        s.settimeout(1.0)
        socks.append(s)
        try:
            s.connect((host, port))
            s.send(b"x\n")
            answer = s.recv(2048) if kind == socket.SOCK_DGRAM else s.makefile("rb").readline()
            answers[answer.decode().strip() or "ERR"] += 1
        except Exception:
            answers["ERR"] += 1
    if kind == socket.SOCK_DGRAM:
        for s in socks:
            s.close()
    return " ".join("%s %d" % kv for kv in sorted(answers.items())), socks


def next_go(d, n):
    """Waits for DIR/go-N (True) or DIR/close (False)."""
    while not os.path.exists("%s/go-%d" % (d, n)):
        if os.path.exists(d + "/close"):
            return False
        time.sleep(0.05)
    return True


def talk(host, port, d):
    c = socket.create_connection((host, port), timeout=10)
    f = c.makefile("rb")
    n = 1
    while True:
        start = time.time()
        try:
            c.sendall(b"%d\n" % n)
            answer = f.readline().decode().strip() or "ERR closed after %.2f s" % (time.time() - start)
        except Exception as e:
            answer = "ERR %s after %.2f s" % (e, time.time() - start)
        write("%s/answer-%d" % (d, n), answer)
        n += 1
        if answer.startswith("ERR") or not next_go(d, n):
            break
    c.close()


def userve(name, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(name.encode(), peer)


def uhold(host, port, d):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.connect((host, port))
    n = 1
    while True:
        answer = "ERR no answer in 3 tries"
        for tries in range(1, 4):
            try:
                s.send(b"%d" % n)
                answer = "%s tries=%d" % (s.recv(2048).decode(), tries)
                break
            except (socket.timeout, ConnectionRefusedError):
                pass
        write("%s/answer-%d" % (d, n), answer)
        n += 1
        if not next_go(d, n):
            break


if __name__ == "__main__":
    main(sys.argv)
