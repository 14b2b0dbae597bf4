import { describe, expect, it } from 'vitest'
import { failoverTunnelUrls } from './connector.js'

describe('failover tunnel URLs', () => {
  it.each([
    {
      name: 'keeps the tunnel path and switches the scheme',
      tunnel: 'wss://hub-a.example/api/v1/tunnel',
      nodes: ['https://hub-b.example', 'http://10.0.0.3:8443/'],
      want: ['wss://hub-b.example/api/v1/tunnel', 'ws://10.0.0.3:8443/api/v1/tunnel'],
    },
    {
      name: 'leaves out the node the tunnel already uses',
      tunnel: 'ws://127.0.0.1:8443/api/v1/tunnel',
      nodes: ['http://127.0.0.1:8443', 'http://127.0.0.1:8444'],
      want: ['ws://127.0.0.1:8444/api/v1/tunnel'],
    },
    { name: 'no nodes, no fallbacks', tunnel: 'ws://h/api/v1/tunnel', nodes: [], want: [] },
  ])('$name', ({ tunnel, nodes, want }) => {
    expect(failoverTunnelUrls(tunnel, nodes)).toEqual(want)
  })
})
