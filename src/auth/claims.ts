import * as z from '../validation/zod';
import { unauthorized } from '../errors/app-error';
import { groupSchema, userIdSchema } from '../names/names';

/** Roles a token can grant. */
export const ROLES = ['client', 'worker', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as a verified token says. */
export interface Principal {
  readonly userId: string;
  readonly roles: readonly Role[];
  /** Groups the principal may join; `*` means any. */
  readonly groups: readonly string[];
}

/** Which claims of a verified token name the user, the roles and the groups. */
export interface ClaimNames {
  readonly userClaim: string;
  readonly rolesClaim: string;
  readonly groupsClaim: string;
}

/** The claims of Taskwire's own HS256 tokens (docs/protocol.md: Tokens). */
export const TASKWIRE_CLAIMS: ClaimNames = {
  userClaim: 'sub',
  rolesClaim: 'roles',
  groupsClaim: 'groups',
};

const userSchema = userIdSchema;
const rolesSchema = z.optional(z.array(z.enum(ROLES)));
const groupsSchema = z.optional(z.array(z.union([z.literal('*'), groupSchema])));

/**
 * The principal of a verified token's claims, with the same rules for every issuer: the user
 * claim must be a valid user id; a missing roles claim means `client`, a missing groups claim
 * means none; a role outside {@link ROLES} or a malformed group refuses the whole token (a
 * token that grants something we do not know is not guessed at).
 * @throws AppError `unauthorized` ("invalid token claims") when a claim breaks these rules.
 */
export function principalFromClaims(
  payload: Readonly<Record<string, unknown>>,
  names: ClaimNames,
): Principal {
  const user = userSchema.safeParse(payload[names.userClaim]);
  const roles = rolesSchema.safeParse(payload[names.rolesClaim]);
  const groups = groupsSchema.safeParse(payload[names.groupsClaim]);
  if (!user.success || !roles.success || !groups.success) {
    throw unauthorized('invalid token claims');
  }
  return { userId: user.data, roles: roles.data ?? ['client'], groups: groups.data ?? [] };
}
