/** One measured figure, as every bench section returns them. */
export interface BenchRow {
  readonly name: string;
  readonly value: string | number;
  readonly note?: string;
}

/** Prints a heading and an aligned `name | value | note` table (console.table quotes strings). */
export function printSection(title: string, rows: readonly BenchRow[]): void {
  const cells = rows.map((row) => [row.name, formatValue(row.value), row.note ?? '']);
  const header = ['name', 'value', 'note'];
  const widths = header.map((label, column) =>
    Math.max(label.length, ...cells.map((cell) => (cell[column] ?? '').length)),
  );
  const line = (cell: readonly string[]) =>
    cell
      .map((text, column) =>
        column === 1 ? text.padStart(widths[1] ?? 0) : text.padEnd(widths[column] ?? 0),
      )
      .join(' | ')
      .trimEnd();
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const cell of cells) console.log(line(cell));
}

function formatValue(value: string | number): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
}
