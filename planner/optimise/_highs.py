"""A HiGHS instance that keeps HiGHS's start-up banner off the output."""

from __future__ import annotations

import os
import sys

import highspy


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance. HiGHS prints a banner on the first one a process makes, from
    C++ to file descriptor 1, before any option can silence it: it goes to /dev/null."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs
