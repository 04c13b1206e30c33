"""Replay: recorded API answers served on 127.0.0.1, so the whole pipeline runs without a cloud.

Used by the README's first command (the seed incident, embedded) and by the tests (one folder of
recorded JSON per scenario, plus injected faults).
"""
