// The intent store's one catalogue of errors. Every error the store throws is a
// StoreError with a stable `code` (the REST API maps codes to HTTP statuses) and,
// for bad input, the list of fields at fault.

/** A problem with one field of an intent object; `field` is a dotted path (`vrf.rd`, `pools[1].end`). */
export interface FieldError {
  field: string;
  message: string;
}

export const STORE_ERRORS = {
  EF_STORE_VALIDATION: 'the object is malformed or refers to something that does not fit (400)',
  EF_STORE_NOT_FOUND: 'the object, or an object it names, does not exist (404)',
  EF_STORE_CONFLICT: 'the object changed since the revision the caller expected, or already exists (409)',
  EF_STORE_UNIQUE: 'a unique value (FIP address, port fixed IP, FIP per port) is taken by another object (409)',
  EF_STORE_POOL_EXHAUSTED: 'no free address is left in the external network\'s allocation pools (409)',
  EF_STORE_CONTENDED: 'an allocation lost the compare-and-swap race too many times in a row (503, retry)',
  EF_STORE_COMPACTED: 'a watch asked for a revision whose history is gone; list again and watch from the new revision',
  EF_STORE_TXN_TOO_LARGE: 'a transaction needs more than 128 key operations or compares (etcd\'s limit)',
  EF_STORE_CLOSED: 'the store was closed',
  EF_STORE_CORRUPT: 'the embedded store\'s files cannot be read (a bad snapshot; a torn journal tail is repaired instead)',
  EF_STORE_UNAVAILABLE: 'the backend (etcd) could not be reached or failed the request (503)',
} as const;

export type StoreErrorCode = keyof typeof STORE_ERRORS;

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly fields: FieldError[];
  /** For conflicts: the object's current modification revision (0 when absent). */
  readonly currentRevision: number | undefined;

  constructor(code: StoreErrorCode, message: string, opts: { fields?: FieldError[]; currentRevision?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StoreError';
    this.code = code;
    this.fields = opts.fields ?? [];
    this.currentRevision = opts.currentRevision;
  }
}

/** Builds the validation error for a list of field errors (message joins them). */
export function validationError(fields: FieldError[]): StoreError {
  const msg = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new StoreError('EF_STORE_VALIDATION', msg, { fields });
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
