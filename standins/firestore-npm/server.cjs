// Starts @firestore-emulator/server for jobtriage's tests, bound to loopback only.
//
//   node server.cjs <install-prefix> [host] [port]
//
// <install-prefix> is the folder `npm ci` installed this package.json into
// (build/firestore-emulator/). Port 0 picks a free port. When the server listens it prints one
// line, `READY <host>:<port>`, which standins/firestore.py waits for. It stops on
// SIGTERM/SIGINT and when its stdin closes, so a test run that dies never leaves it behind.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const prefix = path.resolve(process.argv[2] || ".");
const host = process.argv[3] || "127.0.0.1";
const port = Number(process.argv[4] || "0");

const requireFromPrefix = createRequire(path.join(prefix, "package.json"));
const { FirestoreServer, FirestoreState } = requireFromPrefix("@firestore-emulator/server");
const { ServerCredentials, status } = requireFromPrefix("@grpc/grpc-js");

// Two gaps of the package that would hide races from our tests (standins/FIRESTORE_EMULATOR.md,
// gaps 1, 3 and 8), closed here the way Firestore behaves:
// - every write gets a strictly later update_time than the one before (the package stamps
//   milliseconds, so two writes in one millisecond had the same time and a precondition on it
//   could not tell them apart);
// - a commit's preconditions (`exists`, `update_time`) are all checked before any of its writes
//   is applied: a stale `update_time` is FAILED_PRECONDITION and nothing of that commit lands.
if (typeof FirestoreState?.prototype?.writeV1Document !== "function") {
  console.error("@firestore-emulator/server: no FirestoreState.writeV1Document (version changed?)");
  process.exit(2);
}
const writeV1Document = FirestoreState.prototype.writeV1Document;
let lastWriteMs = 0;
FirestoreState.prototype.writeV1Document = function (date, write) {
  lastWriteMs = Math.max(date.getTime(), lastWriteMs + 1);
  return writeV1Document.call(this, new Date(lastWriteMs), write);
};

const emulator = new FirestoreServer();

function preconditionFailure(state, write) {
  if (!write.has_current_document) return null;
  const name = write.has_delete ? write.delete : write.update?.name;
  if (!name) return null;
  const doc = state.getDocument(name);
  const exists = Boolean(doc.metadata.hasExist);
  const wanted = write.current_document;
  if (wanted.has_exists) {
    if (wanted.exists && !exists) return { code: status.NOT_FOUND, message: `no entity to update: ${name}` };
    if (!wanted.exists && exists) return { code: status.ALREADY_EXISTS, message: `entity already exists: ${name}` };
  }
  if (wanted.has_update_time) {
    const t = wanted.update_time;
    const wantedMs = Number(t.seconds) * 1000 + Math.floor(Number(t.nanos) / 1e6);
    if (!exists) return { code: status.NOT_FOUND, message: `no entity to update: ${name}` };
    if (doc.metadata.updatedAt.getTime() !== wantedMs) {
      return {
        code: status.FAILED_PRECONDITION,
        message: `the stored version of ${name} does not match the required base version`,
      };
    }
  }
  return null;
}

const commit = emulator.server.handlers?.get("/google.firestore.v1.Firestore/Commit");
if (!commit || typeof commit.func !== "function") {
  console.error("@grpc/grpc-js: no Commit handler to wrap (version changed?)");
  process.exit(2);
}
const commitFunc = commit.func;
commit.func = (call, callback) => {
  for (const write of call.request.writes) {
    const failure = preconditionFailure(emulator.state, write);
    if (failure) {
      callback({ ...failure, name: "Error" }, null);
      return;
    }
  }
  commitFunc(call, callback);
};
// FirestoreServer.start() binds 0.0.0.0 and does not report the port it got; the tests want
// loopback only and an OS-chosen port, so bind the package's gRPC server ourselves. `server` is
// a TypeScript-private field of the pinned version (0.3.15); fail loudly if it moves.
const grpcServer = emulator.server;
if (!grpcServer || typeof grpcServer.bindAsync !== "function") {
  console.error("@firestore-emulator/server: no gRPC server to bind (package version changed?)");
  process.exit(2);
}

function stop(code) {
  try {
    grpcServer.forceShutdown();
  } finally {
    process.exit(code);
  }
}

process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
process.stdin.on("end", () => stop(0));
process.stdin.on("error", () => stop(0));
process.stdin.resume();

grpcServer.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, boundPort) => {
  if (err) {
    console.error(`cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  process.stdout.write(`READY ${host}:${boundPort}\n`);
});
