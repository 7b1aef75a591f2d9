/**
 * The one groups parser, used by the vending function (Cognito claims, the authorizer's context) and by the
 * authorizer (a JWT's groups claim). Both refuse what exceeds the bounds: truncating would hand out an
 * arbitrary subset of a caller's tiers, and an oversized claim is not something a sane IdP issues.
 */

/** Most groups one identity may carry; more refuses the request. */
export const MAX_GROUPS = 100;
/** Longest group name (Cognito's own limit); a longer one refuses the request. */
export const MAX_GROUP_LENGTH = 128;
/** Longest claim value taken into a principal (and into `{claims.x}` templates); longer claims are dropped. */
export const MAX_CLAIM_LENGTH = 256;

/** Why a groups value was refused: stable codes for logs and metrics (never the value itself). */
export type GroupsProblem = 'groups-claim-invalid' | 'too-many-groups' | 'group-too-long';

/** The outcome of {@link parseGroupList}. */
export type GroupList =
  { readonly ok: true; readonly groups: readonly string[] } | { readonly ok: false; readonly problem: GroupsProblem };

/**
 * Reads a groups value: an array (non-string and empty elements dropped) or a space/comma separated string;
 * `undefined` → no groups. Groups are de-duplicated in order (a Set: a group named `__proto__` stays a plain
 * value). Any other type, more than {@link MAX_GROUPS} groups or a group longer than {@link MAX_GROUP_LENGTH}
 * is refused with the reason.
 */
export function parseGroupList(value: unknown): GroupList {
  let raw: readonly unknown[];
  if (value === undefined) return { ok: true, groups: [] };
  if (typeof value === 'string') raw = value.split(/[\s,]+/);
  else if (Array.isArray(value)) raw = value;
  else return { ok: false, problem: 'groups-claim-invalid' };
  const groups = [...new Set(raw.filter((g): g is string => typeof g === 'string' && g !== ''))];
  if (groups.length > MAX_GROUPS) return { ok: false, problem: 'too-many-groups' };
  if (groups.some((g) => g.length > MAX_GROUP_LENGTH)) return { ok: false, problem: 'group-too-long' };
  return { ok: true, groups };
}
