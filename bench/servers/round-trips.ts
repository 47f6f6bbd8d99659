/**
 * Preloaded into a benchmarked server (`node --import ./bench/servers/round-trips.ts`): counts the
 * Redis round trips the process waits on, for bench/roundtrips.ts. Every ioredis command (a
 * pipeline's and a MULTI's included: they pass through `sendCommand` one by one) is counted; a
 * round trip is counted when the process goes from no command awaiting its reply to one, so
 * commands sent together (Promise.all, a pipeline) count once and commands awaited one after
 * another count once each — the latency a request pays. A subscription (a change feed's) and
 * its messages are no request's wait, and are left out.
 *
 * `BENCH_RTT_PORT`: the loopback port answering `GET /` with `{ roundTrips, commands, answered, cpuMicros }` and
 * `GET /trace` with the latest commands by round trip (`BENCH_TRACE=1` prints them per endpoint).
 */
import { createServer, ServerResponse } from 'node:http';
import { type Command, Redis } from 'ioredis';

let outstanding = 0;
let roundTrips = 0;
let commands = 0;
const settle = () => {
  outstanding--;
};
/** The latest commands, each with its round trip's number (`GET /trace` reads and clears them). */
const trace: string[] = [];
const SUBSCRIBER = /^(p|s)?(un)?subscribe$/i;

const send = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, command: Command, stream?: Parameters<typeof send>[1]) {
  const result = send.call(this, command, stream);
  // A subscription is held open, not awaited by a request; its messages never pass through here.
  if (!SUBSCRIBER.test(command.name)) {
    commands++;
    if (outstanding++ === 0) roundTrips++;
    // FCALL's first argument names Curfew's function: enough to tell one round trip from another.
    trace.push(`${roundTrips} ${command.name}${command.name.toLowerCase() === 'fcall' ? ` ${String(command.args[0])}` : ''}`);
    if (trace.length > 1000) trace.shift();
    // Registered before the caller's own await: the count drops before the caller's next command.
    command.promise.then(settle, settle);
  }
  return result;
};

/**
 * The counts when the server's latest answer left: what requests waited on, without work a
 * request leaves running after its answer (an end finished after a logout is answered). Work
 * of an earlier request still running then is in it — the bench leaves nothing running between steps.
 */
let answered = { roundTrips: 0, commands: 0 };
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
  if (this.req?.socket?.localPort !== port) answered = { roundTrips, commands };
  return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
} as typeof end;

const port = Number(process.env.BENCH_RTT_PORT);
if (port) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    const { user, system } = process.cpuUsage();
    // The process's CPU time too (µs), so a benchmark can say what a request costs besides waiting.
    res.end(JSON.stringify(req.url === '/trace' ? trace.splice(0) : { roundTrips, commands, answered, cpuMicros: user + system }));
  });
  server.listen(port, '127.0.0.1');
  server.unref();
}
