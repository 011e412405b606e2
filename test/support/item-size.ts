import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * An item's size as DynamoDB bills and limits it (Developer Guide, "Item sizes and formats"):
 * attribute names' UTF-8 bytes plus values: strings their UTF-8 bytes, numbers about one byte
 * per two significant digits plus one, binary its bytes, null and booleans one byte, lists and
 * maps 3 bytes plus one per element, sets the sum of their members.
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((n, [name, v]) => n + Buffer.byteLength(name) + valueSize(v), 0);
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + b.byteLength, 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  if (v.M)
    return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/**
 * An item's family: its sort key without its last variable part (`OUT#patients#C12` →
 * `OUT#patients`, `BATCH#patients:0` → `BATCH`, `RUN` → `RUN`), under its partition key's kind.
 */
export function familyOf(pk: string, sk: string): string {
  const kind = pk.split('#')[0] ?? pk;
  const parts = sk.split('#');
  return `${kind}/${parts.length > 1 ? parts.slice(0, -1).join('#') : sk}`;
}
