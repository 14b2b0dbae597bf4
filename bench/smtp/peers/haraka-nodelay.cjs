// Preloaded into Haraka by bench:smtp (node --require) for the "Haraka + TCP_NODELAY" row.
// Haraka never calls setNoDelay, so Nagle's algorithm delays the final "." of each forwarded
// message until the peer's delayed ACK (~40 ms): docs/benchmarks.md and the peers reference
// show the effect. This turns Nagle off on every socket the process accepts or opens.
'use strict'
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a --require preload is CommonJS
const net = require('node:net')

const createServer = net.createServer
net.createServer = function createServerNoDelay(options, listener) {
  if (typeof options === 'function' || options === undefined)
    return createServer.call(this, { noDelay: true }, options)
  return createServer.call(this, { noDelay: true, ...options }, listener)
}

const connect = net.connect
net.connect = net.createConnection = function connectNoDelay(...args) {
  const socket = connect.apply(this, args)
  socket.setNoDelay(true)
  return socket
}
