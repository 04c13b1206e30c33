"""The fakes share the package's replay HTTP server (it also serves the embedded demo)."""

from jobtriage.replay.server import FakeServer, Reply, Request

__all__ = ["FakeServer", "Reply", "Request"]
