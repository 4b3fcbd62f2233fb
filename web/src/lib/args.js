// Splits a command line into argv the way a POSIX shell would for plain words and quotes (no expansion):
// 'python3 train.py --name "a b"' -> ["python3", "train.py", "--name", "a b"].
// The reverse, for showing argv as a command line that a shell would split back into the same argv.
export function shellQuote(argv) {
  return (argv || []).map((a) => (a !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : "'" + a.replaceAll("'", "'\\''") + "'")).join(' ');
}

export function splitArgs(s) {
  const out = [];
  let cur = '';
  let has = false;
  let q = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') { q = c; has = true; }
    else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; has = true; }
    else if (/\s/.test(c)) { if (has || cur) { out.push(cur); cur = ''; has = false; } }
    else { cur += c; has = true; }
  }
  if (q) throw new Error('unterminated quote in the command');
  if (has || cur) out.push(cur);
  return out;
}
