import { createHash } from 'node:crypto';

/** A message attribute as SQS stores it; binary values travel base64-encoded, as on the wire. */
export interface MessageAttributeValue {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
  stringListValues?: string[];
  binaryListValues?: string[];
}

export function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

// Transport types of the SQS attribute digest (the same numbering the AWS SDKs use to verify it).
const STRING = 1;
const BINARY = 2;
const STRING_LIST = 3;
const BINARY_LIST = 4;

/**
 * MD5OfMessageAttributes (and MD5OfMessageSystemAttributes) exactly as SQS computes it: for each
 * attribute in order of name, the length-prefixed (4-byte big-endian) UTF-8 name and data type,
 * one transport-type byte, then the length-prefixed value(s). Undefined when there are none.
 */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): string | undefined {
  if (!attributes) return undefined;
  // SQS sorts as Java strings do (UTF-16 code units): JavaScript's default sort matches.
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  const writeLengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of names) {
    const value = attributes[name]!;
    writeLengthPrefixed(Buffer.from(name, 'utf8'));
    writeLengthPrefixed(Buffer.from(value.dataType, 'utf8'));
    if (value.stringValue !== undefined) {
      hash.update(Buffer.from([STRING]));
      writeLengthPrefixed(Buffer.from(value.stringValue, 'utf8'));
    } else if (value.binaryValue !== undefined) {
      hash.update(Buffer.from([BINARY]));
      writeLengthPrefixed(Buffer.from(value.binaryValue, 'base64'));
    } else if (value.stringListValues !== undefined) {
      hash.update(Buffer.from([STRING_LIST]));
      for (const item of value.stringListValues) writeLengthPrefixed(Buffer.from(item, 'utf8'));
    } else if (value.binaryListValues !== undefined) {
      hash.update(Buffer.from([BINARY_LIST]));
      for (const item of value.binaryListValues) writeLengthPrefixed(Buffer.from(item, 'base64'));
    }
  }
  return hash.digest('hex');
}
