/**
 * Preloaded into the peer (`node -r ./peer_loopback.cjs index.js`, see
 * `peer.ts`): the peer's HTTP server listens on 127.0.0.1 whatever host it asks
 * for, as its own code listens on every interface and the benchmark must not
 * open a port to the network.
 */

"use strict";

const http = require("node:http");

const LOOPBACK = "127.0.0.1";
const listen = http.Server.prototype.listen;

/** `listen()` with its host, given or not, replaced by loopback. */
http.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === "object") {
    return listen.call(this, { ...first, host: LOOPBACK }, ...args.slice(1));
  }
  // listen(port[, host][, backlog][, callback]): keep the port and the callback only.
  const callback = args.find((arg) => typeof arg === "function");
  const options = { port: Number(first ?? 0), host: LOOPBACK };
  return callback ? listen.call(this, options, callback) : listen.call(this, options);
};
