import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { waitFor } from '@postern/testkit'
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js'
import {
  startPipelineGateway,
  waitForStatus,
  type PipelineGateway,
} from '../support/pipeline-gateway.js'

const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`

const clean = crlf([
  'From: Alice <alice@good.example>',
  'To: bob@corp.example',
  'Subject: Quarterly numbers',
  'Message-ID: <q1@good.example>',
  '',
  'The report is at https://reports.good.example/q1.',
])

const phishing = crlf([
  'From: "Microsoft 365" <no-reply@m365-support.example>',
  'To: bob@corp.example',
  'Subject: Password expires today',
  'Message-ID: <p1@m365-support.example>',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Keep your password: <a href="http://bit.ly/3xYz">https://login.microsoftonline.com/</a></p>',
])

const midOf = (response: string): number => Number(/queued as (\d+)/.exec(response)?.[1])

describe.each(BACKENDS)(
  'gateway with the content pipeline, end to end over SMTP (%s)',
  (dialect) => {
    let dns: DnsResponder
    let gw: PipelineGateway

    beforeAll(async () => {
      dns = await startDnsResponder({
        'good.example': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
        '_dmarc.good.example': { TXT: ['v=DMARC1; p=reject'] },
      })
      gw = await startPipelineGateway(
        {
          workers: 1,
          authentication: { dns: { servers: [dns.address], timeout: 500, tries: 1 } },
          policies: {
            outgoing: [
              {
                name: 'outgoing',
                rules: [
                  {
                    name: 'compromised-account',
                    when: { verdict: ['blocked', 'virus', 'spam'] },
                    then: {
                      blockSender: { reason: 'sent block-listed content' },
                      quarantine: 'policy',
                    },
                  },
                ],
              },
            ],
          },
        },
        { dialect },
      )
    })
    afterAll(async () => {
      await gw?.stop()
      await dns?.close()
    })

    it('delivers clean mail with Authentication-Results, and tracks every step', async () => {
      const { response } = await gw.send(
        'inbound',
        { from: 'alice@good.example', to: ['bob@corp.example'] },
        clean,
      )
      const mid = midOf(response)
      await waitForStatus(gw, mid, ['delivered', 'completed'])
      const [delivered] = gw.delivered('bob@corp.example')
      expect(delivered).toMatch(/^Authentication-Results: gw\.corp\.example;$/m)
      expect(delivered).toMatch(/^ spf=pass /m)
      expect(delivered).toMatch(/^ dmarc=pass /m)
      expect(delivered).toContain('Subject: Quarterly numbers')
      const events = (await gw.gateway.tracking.store.listEvents(mid)).map((e) => e.event)
      expect(events).toEqual(
        expect.arrayContaining([
          'MESSAGE_ANALYSED',
          'AUTH_RESULT',
          'SCANNER_RESULT',
          'POLICY_MATCHED',
          'POLICY_ACTION',
          'PROCESSED',
          'DELIVERED',
        ]),
      )
      expect(
        await gw.gateway.tracking.store.findByObservable('url', 'https://reports.good.example/q1'),
      ).toContain(mid)
      const analysis = await gw.api<{
        analysis: { spf: string; verdicts: string[] }
        urls: { url: string }[]
      }>('GET', `/api/v1/tracking/messages/${mid}/analysis`)
      expect(analysis.status).toBe(200)
      expect(analysis.body.analysis.spf).toBe('pass')
      expect(analysis.body.urls.map((u) => u.url)).toEqual(['https://reports.good.example/q1'])
    })

    it('quarantines phishing, then releases it through the queue as a new MID', async () => {
      const { response } = await gw.send(
        'inbound',
        { from: 'no-reply@m365-support.example', to: ['bob@corp.example'] },
        phishing,
      )
      const mid = midOf(response)
      await waitForStatus(gw, mid, ['quarantined'])
      expect(
        gw.delivered('bob@corp.example').some((m) => m.includes('Password expires today')),
      ).toBe(false)
      const list = await gw.api<{
        items: { id: number; mid: number; quarantine: string; reason: string }[]
      }>('GET', `/api/v1/quarantine/messages?mid=${mid}`)
      expect(list.body.items).toEqual([
        expect.objectContaining({
          mid,
          quarantine: 'policy',
          reason: 'policy default, rule credential-phishing',
        }),
      ])
      const id = list.body.items[0]?.id as number
      const view = await gw.api<{ text: string; urls: string[] }>(
        'GET',
        `/api/v1/quarantine/messages/${id}/view`,
      )
      expect(view.body.text).toContain('Keep your password')
      expect(view.body.urls).toEqual(['http://bit.ly/3xYz', 'https://login.microsoftonline.com/'])

      const released = await gw.api<{ status: string }>(
        'POST',
        `/api/v1/quarantine/messages/${id}/release`,
      )
      expect(released).toMatchObject({ status: 200, body: { status: 'released' } })
      await waitFor(
        () => gw.delivered('bob@corp.example').find((m) => m.includes('Password expires today')),
        {
          what: 'the released message in the mailbox',
        },
      )
      await gw.flush()
      const releaseEvent = (await gw.gateway.tracking.store.listEvents(mid)).find(
        (e) => e.event === 'QUARANTINE_RELEASED',
      )
      expect(releaseEvent?.details).toMatchObject({
        quarantine: 'policy',
        releasedAs: expect.any(Number),
      })
      const again = await gw.api<{ error: { code: string } }>(
        'POST',
        `/api/v1/quarantine/messages/${id}/release`,
      )
      expect(again).toMatchObject({
        status: 409,
        body: { error: { code: 'GW_ERR_QUARANTINE_ITEM_NOT_HELD' } },
      })
    })

    it('refuses a block-listed sender domain at MAIL FROM with a coded 550', async () => {
      const added = await gw.api<{ value: string }>('POST', '/api/v1/blocklists', {
        kind: 'sender_domain',
        value: 'spammer[.]example',
        reason: 'campaign',
      })
      expect(added).toMatchObject({ status: 201, body: { value: 'spammer.example' } })
      await expect(
        gw.send('inbound', { from: 'bulk@mail.spammer.example', to: ['bob@corp.example'] }, clean),
      ).rejects.toMatchObject({ responseCode: 550, response: expect.stringContaining('5.7.1') })
    })

    it('blocks an internal user who sends a block-listed URL, refuses their next mail, accepts after unblock', async () => {
      await gw.api('POST', '/api/v1/blocklists', {
        kind: 'url_domain',
        value: 'malware.example',
        reason: 'hub',
      })
      const outgoing = crlf([
        'From: Dave <dave@corp.example>',
        'To: x@partner.example',
        'Subject: fyi',
        '',
        'https://malware.example/payload',
      ])
      const { response } = await gw.send(
        'outbound',
        { from: 'dave@corp.example', to: ['x@partner.example'] },
        outgoing,
      )
      const mid = midOf(response)
      await waitForStatus(gw, mid, ['quarantined'])
      const events = await gw.gateway.tracking.store.listEvents(mid)
      expect(events.find((e) => e.event === 'SENDER_BLOCKED')?.details).toMatchObject({
        sender: 'dave@corp.example',
        reason: 'sent block-listed content',
        rule: 'compromised-account',
      })
      const users = await gw.api<{ users: { address: string; mid: number }[] }>(
        'GET',
        '/api/v1/blocked-users',
      )
      expect(users.body.users).toEqual([
        expect.objectContaining({ address: 'dave@corp.example', mid }),
      ])
      await expect(
        gw.send('outbound', { from: 'dave@corp.example', to: ['y@partner.example'] }, clean),
      ).rejects.toMatchObject({
        responseCode: 550,
        response: expect.stringMatching(/5\.7\.1 Sending from this account is blocked/),
      })
      const unblock = await gw.api('DELETE', '/api/v1/blocked-users/dave@corp.example')
      expect(unblock.status).toBe(200)
      const ok = await gw.send(
        'outbound',
        { from: 'dave@corp.example', to: ['y@partner.example'] },
        clean,
      )
      expect(ok.response).toMatch(/^250/)
    })

    it('lets an operator block a user by hand, and refuses with a coded error when not blocked', async () => {
      const blocked = await gw.api('POST', '/api/v1/blocked-users', {
        address: 'Erin@Corp.Example',
        reason: 'phished',
      })
      expect(blocked).toMatchObject({
        status: 200,
        body: { created: true, user: { address: 'erin@corp.example' } },
      })
      await expect(
        gw.send('outbound', { from: 'erin@corp.example', to: ['y@partner.example'] }, clean),
      ).rejects.toMatchObject({ responseCode: 550 })
      await gw.api('DELETE', '/api/v1/blocked-users/erin@corp.example')
      const missing = await gw.api<{ error: { code: string } }>(
        'DELETE',
        '/api/v1/blocked-users/erin@corp.example',
      )
      expect(missing).toMatchObject({
        status: 404,
        body: { error: { code: 'GW_ERR_BLOCKED_SENDER_NOT_FOUND' } },
      })
    })
  },
)
