// Key layout of the intent store, the same in etcd and in the embedded store:
//   /edgeflow/v1/<kind>/<id>          one JSON object per key
//   /edgeflow/v1/_idx/<index>/<value>  unique-value index; the value is "<kind>/<id>" of the holder
import { isKind, type Kind } from './model.js';

export const ROOT = '/edgeflow/v1/';
export const INDEX_ROOT = `${ROOT}_idx/`;

export function objectKey(kind: Kind, id: string): string {
  return `${ROOT}${kind}/${id}`;
}

export function kindPrefix(kind: Kind): string {
  return `${ROOT}${kind}/`;
}

export function indexKey(name: string): string {
  return INDEX_ROOT + name;
}

/** Kind and id of an object key; undefined for index keys and foreign keys. */
export function parseObjectKey(key: string): { kind: Kind; id: string } | undefined {
  if (!key.startsWith(ROOT)) return undefined;
  const rest = key.slice(ROOT.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const kind = rest.slice(0, slash);
  if (!isKind(kind)) return undefined;
  return { kind, id: rest.slice(slash + 1) };
}
