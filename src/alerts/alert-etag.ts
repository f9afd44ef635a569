import { PreconditionFailedError, PreconditionRequiredError } from '../common/domain.errors.js';

/** The entity tag of an alert: its revision, which every change (engine or analyst) increments. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/**
 * Checks an `If-Match` header against the alert's current revision. Required, so a playbook working from a stale
 * read cannot overwrite a newer change; `*` opts out explicitly. Weak tags (`W/"3"`) compare by their value.
 */
export function checkIfMatch(header: string | undefined, alertId: string, revision: number): void {
  if (header === undefined || header.trim() === '') {
    throw new PreconditionRequiredError(
      `changing alert ${alertId} needs an If-Match header with its ETag (or *); it is at ${etagOf(revision)}`,
      { field: 'If-Match', currentEtag: etagOf(revision) },
    );
  }
  if (header.trim() === '*') return;

  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (tags.includes(etagOf(revision))) return;

  throw new PreconditionFailedError(
    `alert ${alertId} changed since it was read: If-Match ${header.trim()}, current ${etagOf(revision)}`,
    { field: 'If-Match', currentEtag: etagOf(revision) },
  );
}
