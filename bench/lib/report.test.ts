import { describe, expect, it } from 'vitest'
import { formatDate, renderRunHeader } from './report.js'

describe('renderRunHeader', () => {
  it('records machine, load, versions, parameters and notes', () => {
    const text = renderRunHeader({
      title: 'SMTP relay throughput',
      command: 'npm run bench:smtp',
      startedAt: new Date('2026-11-27T20:40:00Z'),
      finishedAt: new Date('2026-11-27T20:52:10Z'),
      machine: {
        cpu: 'AMD EPYC',
        cores: 2,
        memoryBytes: 24 * 1024 ** 3,
        disk: 'ext4 on /dev/vda (rotational flag 1)',
        kernel: 'Linux 6.1.0',
        virtualization: 'kvm',
      },
      loadAtStart: 1.5,
      loadAtEnd: 2.25,
      versions: { Node: 'v20.20.2', Postfix: '3.7.11' },
      parameters: { Messages: '20 000 × 5 KB' },
      notes: ['Preliminary: shared machine.', 'Second note.'],
    })
    expect(text).toBe(
      [
        '## SMTP relay throughput',
        'Regenerate with `npm run bench:smtp`.',
        '> Preliminary: shared machine.\n>\n> Second note.',
        [
          '| Run | Details |',
          '| --- | --- |',
          '| Date | 2026-11-27 20:40 UTC (12 min) |',
          '| Machine | AMD EPYC, 2 cores, 24.0 GiB RAM, ext4 on /dev/vda (rotational flag 1), Linux 6.1.0, virtualised (kvm) |',
          '| Load average (1 min) | 1.50 at start, 2.25 at end |',
          '| Versions | Node v20.20.2 · Postfix 3.7.11 |',
          '| Messages | 20 000 × 5 KB |',
        ].join('\n'),
      ].join('\n\n'),
    )
  })

  it('formats dates in UTC to the minute', () => {
    expect(formatDate(new Date('2026-01-02T03:04:59.999Z'))).toBe('2026-01-02 03:04 UTC')
  })
})
