/**
 * The figure of docs/look.md as a small SVG: for each photo × painting pair, the style loss at the end
 * relative to the content loss, before and now, as bars on a log scale (lower: the painting's statistics
 * were matched more closely relative to the photo's structure).
 */
export function lossFigure(rows: readonly { pair: string; before: number; now: number }[]): string {
  const width = 640;
  const barHeight = 18;
  const left = 170;
  const plot = width - left - 70;
  const values = rows.flatMap((r) => [r.before, r.now]);
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.ceil(Math.log10(Math.max(...values)));
  const x = (v: number) => left + (plot * (Math.log10(v) - low)) / Math.max(1, high - low);
  const height = 50 + rows.length * (2 * barHeight + 16);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    "<title>Final style loss relative to content loss, before and now, per photo × painting pair</title>",
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="16">final style loss ÷ content loss, weights divided out (log scale)</text>`,
  ];
  for (let d = low; d <= high; d++) {
    parts.push(
      `<line x1="${x(10 ** d)}" y1="24" x2="${x(10 ** d)}" y2="${height - 8}" stroke="#ddd"/>`,
      `<text x="${x(10 ** d) + 2}" y="${height - 10}" fill="#888">1e${d}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const top = 30 + i * (2 * barHeight + 16);
    parts.push(`<text x="4" y="${top + barHeight + 4}">${r.pair}</text>`);
    for (const [j, [label, value, colour]] of (
      [
        ["before", r.before, "#bbb"],
        ["now", r.now, "#c63"],
      ] as const
    ).entries()) {
      const y = top + j * barHeight;
      parts.push(
        `<rect x="${left}" y="${y}" width="${Math.max(1, x(value) - left)}" height="${barHeight - 3}" fill="${colour}"/>`,
        `<text x="${x(value) + 4}" y="${y + 12}">${label} ${value.toPrecision(2)}</text>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("\n");
}
