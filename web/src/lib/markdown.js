// A small, safe Markdown subset for descriptions: headings, paragraphs, lists, code blocks, inline code,
// bold, italic and links. It builds elements (never innerHTML), so text from the store cannot inject markup;
// links are kept only for http(s), mailto and in-app (#/...) targets.
import { html } from './html.js';

export function safeHref(url) {
  const u = String(url).trim();
  if (/^(https?:|mailto:)/i.test(u) || u.startsWith('#/')) return u;
  return null;
}

// Inline spans: `code`, **bold**, *italic* / _italic_, [text](url).
export function inline(text) {
  const out = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const t = m[0];
    if (m[1]) out.push(html`<code>${t.slice(1, -1)}</code>`);
    else if (m[2]) out.push(html`<strong>${t.slice(2, -2)}</strong>`);
    else if (m[3]) out.push(html`<em>${t.slice(1, -1)}</em>`);
    else {
      const mm = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(t);
      const href = safeHref(mm[2]);
      out.push(href ? html`<a href=${href} rel="noopener noreferrer" target=${href.startsWith('#') ? undefined : '_blank'}>${mm[1]}</a>` : mm[1]);
    }
    last = m.index + t.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function markdownBlocks(src) {
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const body = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i])) body.push(lines[i++]);
      i++;
      blocks.push({ type: 'code', text: body.join('\n') });
      continue;
    }
    const hm = /^(#{1,4})\s+(.*)$/.exec(line);
    if (hm) { blocks.push({ type: 'h', level: hm[1].length, text: hm[2] }); i++; continue; }
    if (/^\s*[-*]\s+/.test(line)) {
      const items = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*]\s+/, ''));
      blocks.push({ type: 'ul', items });
      continue;
    }
    if (!line.trim()) { i++; continue; }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^(```|#{1,4}\s|\s*[-*]\s)/.test(lines[i])) para.push(lines[i++]);
    blocks.push({ type: 'p', text: para.join(' ') });
  }
  return blocks;
}

export function Markdown({ source }) {
  return html`<div class="md">${markdownBlocks(source).map((b) => {
    if (b.type === 'code') return html`<pre><code>${b.text}</code></pre>`;
    if (b.type === 'h') return html`<div class=${'md-h' + b.level}>${inline(b.text)}</div>`;
    if (b.type === 'ul') return html`<ul>${b.items.map((t) => html`<li>${inline(t)}</li>`)}</ul>`;
    return html`<p>${inline(b.text)}</p>`;
  })}</div>`;
}
