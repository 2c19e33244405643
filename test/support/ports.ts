import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Fixed ports for the tests that must name them (a restart on the same ports, a check that the
 * ports are free again). They are picked below the kernel's ephemeral range: a port taken from
 * listen(0) and closed again can be handed to anything else's listen(0) or outgoing connection
 * before the child binds it (the chaos suite alone opens thousands of connections), while a port
 * outside that range is only ever taken by someone naming it.
 */

/** The range listen(0) and outgoing connections take ports from. */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 0 && high >= low) return { low, high };
  } catch {
    // Not Linux: the IANA range, as macOS and Windows use it.
  }
  return { low: 49152, high: 65535 };
}

/** Whether a port can be listened on at 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * `n` distinct ports that are free at 127.0.0.1 now, outside the ephemeral range and never
 * handed out before in this process (random, so two jest workers rarely pick the same one).
 */
export async function freePorts(n: number): Promise<number[]> {
  const { low, high } = ephemeralRange();
  // Registered ports below the range; when the range starts low, the ports above it.
  const [from, to] = low > 12_000 ? [10_000, low - 1] : [high + 1, 65_535];
  const ports: number[] = [];
  for (let attempt = 0; ports.length < n; attempt++) {
    if (attempt > 1000) throw new Error(`no free port in ${from}-${to}`);
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (handedOut.has(port) || !(await portFree(port))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}
