// One catalogue of the API's error codes (fastify's FST_ERR_* in spirit): every error a
// client can see has a code here, an HTTP status, and a sentence. The error body is
// { error: { code, message, field? } }; `field` names the offending input.

export interface ErrorDef {
  status: number;
  description: string;
}

export const ERRORS = {
  EF_ERR_VALIDATION: { status: 400, description: 'The request body, query or path does not match the schema; `field` names the first offending field.' },
  EF_ERR_BAD_ROUTE: { status: 400, description: 'A route object is not valid (bad prefix, next hop, RD, route target, VNI, …); `field` names it.' },
  EF_ERR_BAD_INTENT: { status: 400, description: 'An intent object (chassis, network, tenant, port, floating IP) is not valid; `field` names it.' },
  EF_ERR_UNAUTHORIZED: { status: 401, description: 'A bearer token is required for this request and was missing or wrong.' },
  EF_ERR_NOT_FOUND: { status: 404, description: 'The object (neighbor, floating IP, port, …) does not exist.' },
  EF_ERR_CONFLICT: { status: 409, description: 'The change conflicts with current state (address in use, revision changed, object still referenced).' },
  EF_ERR_POOL_EXHAUSTED: { status: 409, description: 'No free address is left in the allocation pool.' },
  EF_ERR_UNAVAILABLE: { status: 503, description: 'A dependency (the intent store, the kernel) is not reachable right now; nothing was changed.' },
  EF_ERR_INTERNAL: { status: 500, description: 'An unexpected error; the log has the details.' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCodeName = keyof typeof ERRORS;

/** An error to answer with: the catalogue code decides the status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCodeName, message: string, readonly field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = ERRORS[code].status;
  }
  toBody(): { error: { code: string; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** JSON schema of the error body, for route responses and OpenAPI. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
