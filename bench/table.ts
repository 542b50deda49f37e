// A Markdown table printed to stdout under a title, columns padded to their widest cell
// (the benchmarks print their results this way so they paste into RESULTS.md).
export function table(title: string, head: string[], rows: Array<Array<string | number>>): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  console.log(`\n${title}\n`);
  cells.forEach((r, j) => {
    console.log(`| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`);
    if (j === 0) console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  });
}
