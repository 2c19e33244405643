import * as z from '../validation/zod';

/**
 * The character sets of names that end up in DynamoDB keys and URLs. Keeping them narrow means
 * a name can never smuggle a key separator (`#`) or a path segment into a query.
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.@:-]{1,128}$/;
export const GROUP_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const CLIENT_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

export const userIdSchema = z
  .string()
  .check(z.regex(USER_ID_PATTERN, '1-128 characters of A-Z a-z 0-9 _ . @ : -'));
export const groupSchema = z
  .string()
  .check(z.regex(GROUP_PATTERN, '1-64 characters of A-Z a-z 0-9 _ . : -'));
export const clientTypeSchema = z
  .string()
  .check(
    z.regex(CLIENT_TYPE_PATTERN, '1-32 characters, lower-case letter first, then a-z 0-9 _ -'),
  );

/** At most this many groups per connection (keeps a disconnect to a couple of batch writes). */
export const MAX_GROUPS_PER_CONNECTION = 50;
