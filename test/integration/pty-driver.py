#!/usr/bin/env python3
"""Drives an interactive command through a pseudo-terminal (the way an operator types into it).

Usage: pty-driver.py STEPS_JSON -- command args...
STEPS_JSON is a list of [expected_text, line_to_send]: wait until the output contains the text
(after the previous match), then type the line and Enter. The transcript goes to stdout and the
exit status is the command's.
"""
import json
import os
import pty
import select
import signal
import sys
import time

# Generous: on a loaded machine the command may take a while to start and to answer.
TIMEOUT = 120.0


def main() -> int:
    steps = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index('--') + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    transcript = b''
    position = 0

    def read_some(deadline: float) -> bool:
        nonlocal transcript
        ready, _, _ = select.select([fd], [], [], max(0.0, min(0.2, deadline - time.time())))
        if not ready:
            return True
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        transcript += chunk
        return True

    for expected, answer in steps:
        deadline = time.time() + TIMEOUT
        needle = expected.encode()
        while transcript.find(needle, position) < 0:
            if time.time() > deadline or not read_some(deadline):
                sys.stdout.write(transcript.decode(errors='replace'))
                sys.stdout.write(f'\n[pty-driver] did not see {expected!r}\n')
                return 99
        position = transcript.find(needle, position) + len(needle)
        os.write(fd, answer.encode() + b'\r')
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and read_some(deadline):
        pass
    # Bounded: a command still running after its last answer is a failure, never a hang. The
    # terminal closes a moment before the process is gone, so wait for it (up to TIMEOUT).
    deadline = time.time() + TIMEOUT
    done, status = os.waitpid(pid, os.WNOHANG)
    while done == 0 and time.time() < deadline:
        time.sleep(0.1)
        done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write(transcript.decode(errors='replace'))
        sys.stdout.write('\n[pty-driver] the command did not exit after the last step\n')
        return 98
    sys.stdout.write(transcript.decode(errors='replace'))
    return os.waitstatus_to_exitcode(status)


if __name__ == '__main__':
    sys.exit(main())
