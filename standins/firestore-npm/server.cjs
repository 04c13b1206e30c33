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
const { FirestoreServer } = requireFromPrefix("@firestore-emulator/server");
const { ServerCredentials } = requireFromPrefix("@grpc/grpc-js");

const emulator = new FirestoreServer();
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
