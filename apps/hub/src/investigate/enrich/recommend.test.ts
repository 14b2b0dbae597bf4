import { describe, expect, it } from 'vitest'
import type { Observable } from '@postern/ctim'
import { addVerdict, observableKey, recommend, type Evidence } from './recommend.js'

const gateways = {
  module: 'Gateways',
  module_instance_id: 'i-1',
  module_type_id: 'postern-email-gateway',
  'module-type': 'Postern Email Gateway',
}

function evidence(
  verdicts: [Observable, number, string][],
  messages: [Observable, string[]][] = [],
): Evidence {
  const e: Evidence = { verdicts: new Map(), messages: new Map() }
  for (const [o, d, m] of verdicts) addVerdict(e, o, d, m)
  for (const [o, ids] of messages) e.messages.set(observableKey(o), new Set(ids))
  return e
}

const url = { type: 'url', value: 'https://login.evil.com/reset' } as Observable
const sender = { type: 'email', value: 'ceo@corp.example' } as Observable

describe('recommend', () => {
  it.each([
    [
      'a malicious URL: forward and delete each message, block its registrable domain, add to case',
      [url],
      evidence([[url, 2, 'Intel']], [[url, ['m1@x', 'm2@x']]]),
      new Set<string>(),
      [
        ['forward-and-delete', 'email_messageid', 'm1@x', 1],
        ['forward-and-delete', 'email_messageid', 'm2@x', 1],
        ['block', 'domain', 'evil.com', 2],
        ['add-to-case', 'url', url.value, 3],
      ],
    ],
    [
      'a suspicious URL: a copy to the SOC and the case, no block',
      [url],
      evidence([[url, 3, 'Gateways (gw1)']], [[url, ['m1@x']]]),
      new Set<string>(),
      [
        ['forward', 'email_messageid', 'm1@x', 1],
        ['add-to-case', 'url', url.value, 3],
      ],
    ],
    [
      'an internal sender found malicious: block its outgoing mail',
      [sender],
      evidence([[sender, 2, 'Intel']]),
      new Set([observableKey(sender)]),
      [
        ['block-user', 'email', sender.value, 2],
        ['add-to-case', 'email', sender.value, 3],
      ],
    ],
    [
      'a malicious Message-ID: forward and delete that message',
      [{ type: 'email_messageid', value: 'm9@x' }],
      evidence([[{ type: 'email_messageid', value: 'm9@x' } as Observable, 2, 'Intel']]),
      new Set<string>(),
      [
        ['forward-and-delete', 'email_messageid', 'm9@x', 1],
        ['add-to-case', 'email_messageid', 'm9@x', 3],
      ],
    ],
    [
      'clean or unknown verdicts: nothing',
      [url],
      evidence([[url, 1, 'Intel']]),
      new Set<string>(),
      [],
    ],
  ] as const)('%s', (_name, observables, ev, blockUser, expected) => {
    const recs = recommend(observables as unknown as Observable[], ev, [gateways], blockUser)
    expect(
      recs.map((r) => [r.actionId, r.observable.type, r.observable.value, r.priority]),
    ).toEqual(expected)
    for (const rec of recs)
      expect(rec.reason).toMatch(/(Malicious|Suspicious) verdict for .* from /)
  })

  it('keeps the worst disposition and every module that gave it', () => {
    const e = evidence([
      [url, 3, 'A'],
      [url, 2, 'B'],
      [url, 2, 'C'],
      [url, 3, 'D'],
    ])
    expect(e.verdicts.get(observableKey(url))).toEqual({ disposition: 2, modules: ['B', 'C'] })
  })
})
