import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * An item's size as DynamoDB counts it against the 400 KB limit (Developer Guide, "Item sizes
 * and formats"): the UTF-8 length of every attribute name plus each value's size — strings and
 * binaries their UTF-8/byte length, a number about one byte per two significant digits plus one
 * (at most 21), null and booleans one byte, and lists and maps 3 bytes plus one byte per element
 * on top of their elements (a map's element counts its name too). Sets count their members.
 *
 * dynalite enforces the limit too, but counts strings in UTF-16 code units, so it undercounts
 * text that is not ASCII; this estimate counts bytes.
 */
export function dynamoDbItemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, member) => sum + utf8(member), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, member) => sum + numberSize(member), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, member) => sum + member.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M !== undefined) {
    return (
      3 +
      Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueSize(element), 0)
    );
  }
  throw new Error(`unknown attribute value ${JSON.stringify(value)}`);
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
