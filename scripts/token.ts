import { parseArgs } from 'node:util';
import { ROLES, type Role, signToken } from '../src/auth/token';
import { localAuthSecret } from '../local/dev-secret';
import { groupSchema, userIdSchema } from '../src/names/names';

const USAGE =
  'usage: npm run token -- --sub <userId> [--roles client,worker,admin] [--groups g1,g2|*] [--ttl seconds]';

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        sub: { type: 'string' },
        roles: { type: 'string', default: 'client' },
        groups: { type: 'string', default: '' },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\nSigns with TASKWIRE_AUTH_SECRET (or the local dev default).\n`);
    return;
  }
  const sub = userIdSchema.safeParse(values.sub);
  if (!sub.success) fail(`--sub is required: ${sub.error.issues[0]?.message}`);
  const roles = values.roles.split(',').filter(Boolean);
  const bad = roles.find((r) => !(ROLES as readonly string[]).includes(r));
  if (bad !== undefined) fail(`unknown role "${bad}" (roles: ${ROLES.join(', ')})`);
  const groups = values.groups.split(',').filter(Boolean);
  const badGroup = groups.find((g) => g !== '*' && !groupSchema.safeParse(g).success);
  if (badGroup !== undefined) fail(`bad group "${badGroup}"`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
  const secret = localAuthSecret();
  process.stdout.write(
    `${await signToken({ sub: sub.data, roles: roles as Role[], groups, ttlSeconds: ttl }, secret)}\n`,
  );
}

void main();
