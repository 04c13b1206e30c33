"""Local stand-ins for everything outside the process, for the demo, the tests and the benchmarks.

Never deployed (deploy/source.tf leaves this folder out of the function's zip) and never imported
by the product; the `jobtriage demo` command imports it lazily, on its own path only.

- `replay/`     Google's Cloud Run Admin and Logging APIs answered from recorded scenarios
                (`replay/scenarios/<name>/`, the seed incident among them), faults injectable.
- `slack.py`    Slack's Web API (chat.postMessage, chat.update, usergroups.users.list, …).
- `firestore.py` the Firestore emulator (npm spec in `firestore-npm/`, Google's when installed).
- `joblogs/`    log lines as data: fake secrets of every kind, ordinary lines that are none.
- `load/`       the load harness: Pub/Sub-style delivery of many failures on a virtual clock.
- `server.py`   the small HTTP server the replay and the fake Slack answer on.
"""
