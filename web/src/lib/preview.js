// Artifact preview helpers (pure; unit-tested): the kind of preview for a file name, the first rows of a
// CSV (quoted fields, a cut-off last line dropped) and an MLmodel's flavors and signature.

export function previewKind(path) {
  const name = path.split('/').pop().toLowerCase();
  if (name === 'mlmodel') return 'mlmodel';
  const ext = name.includes('.') ? name.split('.').pop() : '';
  if (['png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp'].includes(ext)) return 'image';
  if (['csv', 'tsv'].includes(ext)) return 'csv';
  if (ext === 'json') return 'json';
  if (['yaml', 'yml', 'txt', 'log', 'md', 'py', 'toml', 'cfg', 'ini', 'sh', 'patch', 'diff', 'html', 'xml', 'r', 'sql', 'jsonl'].includes(ext)) return 'text';
  if (['requirements', 'license', 'dockerfile', 'makefile'].includes(name) || ext === '') return 'text';
  return 'binary';
}

export function parseCsvPreview(text, maxRows, truncated) {
  const sep = text.split('\n', 1)[0].includes('\t') && !text.split('\n', 1)[0].includes(',') ? '\t' : ',';
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  for (; i < text.length && rows.length <= maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell.replace(/\r$/, '')); rows.push(row); row = []; cell = ''; }
    else cell += c;
  }
  // The last line without a newline is whole only when the file ended there.
  if (i >= text.length && !truncated && (cell || row.length)) { row.push(cell); rows.push(row); }
  const [header = [], ...body] = rows;
  return { header, rows: body.slice(0, maxRows) };
}

// MLmodel is YAML; the parts shown need no YAML parser: top-level "flavors:" children and the signature's
// JSON strings ("inputs: '[...]'").
export function parseMlmodel(text) {
  const lines = text.split('\n');
  const flavors = [];
  const signature = {};
  let section = null;
  for (const line of lines) {
    if (/^\S/.test(line)) section = line.replace(/:.*$/, '');
    const child = /^ {2}([A-Za-z_][\w.-]*):/.exec(line);
    if (section === 'flavors' && child) flavors.push(child[1]);
    if (section === 'signature') {
      const m = /^ {2}(inputs|outputs):\s*'(.*)'\s*$/.exec(line);
      if (m) {
        try { signature[m[1]] = JSON.parse(m[2].replaceAll("''", "'")); } catch { /* left out */ }
      }
    }
  }
  return { flavors, signature };
}
