// A tour of the core without any server: open connections, feed them the
// facts a transport would report (in odd orders too), watch the registry empty.
import { createRegistry, toNdjsonLine } from '@lifeline/core';
import { connectionMachine, toMermaid } from '@lifeline/core/machine';
import { replay } from '@lifeline/core/replay';

const log: string[] = [];
const registry = createRegistry<{ url: string }>({ onRecord: (record) => log.push(toNdjsonLine(record)) });
registry.onRelease((c) =>
  console.log(`  released #${c.id} ${c.meta?.url ?? ''} as ${c.outcome} (${c.event.type}${'reason' in c.event ? `: ${c.event.reason}` : ''})`),
);

const a = registry.open({ transport: 'http1', meta: { url: '/ok' } });
const b = registry.open({ transport: 'http1', meta: { url: '/download' } });
const c = registry.open({ transport: 'http2', meta: { url: '/missing-file' } });
console.log(`opened 3 connections, in flight: ${registry.size}`);

registry.dispatch(a, { type: 'HEADERS', status: 200 });
registry.dispatch(b, { type: 'HEADERS', status: 200 });
registry.dispatch(b, { type: 'DATA', bytesSent: 65_536 });
console.log(`after headers, in flight: ${registry.size}  states: ${registry.list().map((x) => `#${x.id}=${x.state}`).join(' ')}`);

registry.dispatch(a, { type: 'FINISH', bytesSent: 12 });
// The client went away mid-transfer: no FINISH will ever come. This is the entry that leaked.
registry.dispatch(b, { type: 'CLOSE', reason: 'aborted', bytesSent: 65_536 });
registry.dispatch(c, { type: 'ERROR', reason: 'stream-error', error: { name: 'Error', message: 'no such file', code: 'ENOENT' } });
// Late and duplicate facts change nothing and are counted.
registry.dispatch(b, { type: 'FINISH' });
registry.dispatch(a, { type: 'CLOSE', reason: 'aborted' });

const stats = registry.stats();
console.log(`in flight: ${registry.size}; released: ${JSON.stringify(stats.released)}; late events: ${stats.lateEvents}`);

const replayed = replay(log.join(''));
console.log(`replayed ${replayed.applied} log records: in flight ${replayed.registry.size}, same stats: ${JSON.stringify(replayed.registry.stats()) === JSON.stringify(stats)}`);
console.log('\nthe lifecycle:\n' + toMermaid(connectionMachine));
if (registry.size !== 0) process.exitCode = 1;
