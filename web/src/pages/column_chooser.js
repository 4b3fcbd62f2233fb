// Column chooser for the runs table: every param, tag and metric key of the experiments' recent runs,
// searchable (only the first matches are drawn, so 12,000 keys stay instant); a metric can show its last,
// min and max values as separate columns.
import { useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { columnId } from '../lib/filter.js';
import { Modal } from '../components/common.js';

const SHOW = 300;

export function ColumnChooser({ keys, columns, onClose, onApply }) {
  const [picked, setPicked] = useState(columns);
  const [q, setQ] = useState('');
  const has = (c) => picked.some((p) => columnId(p) === columnId(c));
  const flip = (c) => setPicked(has(c) ? picked.filter((p) => columnId(p) !== columnId(c)) : [...picked, c]);
  const needle = q.trim().toLowerCase();
  const match = (k) => !needle || k.toLowerCase().includes(needle);
  const section = (title, kind, list) => {
    const found = (list || []).filter(match);
    return html`<div class="cc-section"><h3>${title} <span class="muted">${found.length}</span></h3>
      ${found.slice(0, SHOW).map((key) => html`<div class="cc-row" key=${kind + key}>
        <span class="cc-key" title=${key}>${key}</span>
        ${kind === 'metric'
          ? ['last', 'min', 'max'].map((agg) => html`<label><input type="checkbox" checked=${has({ kind, key, agg })}
              onChange=${() => flip({ kind, key, agg })} data-col=${`${kind}:${agg}:${key}`} />${agg}</label>`)
          : html`<label><input type="checkbox" checked=${has({ kind, key })} onChange=${() => flip({ kind, key })}
              data-col=${`${kind}:${key}`} />show</label>`}
      </div>`)}
      ${found.length > SHOW ? html`<div class="muted">${found.length - SHOW} more — refine the search</div>` : null}
    </div>`;
  };
  return html`<${Modal} title="Columns" onClose=${onClose}>
    <input type="search" placeholder="Search keys" value=${q} onInput=${(e) => setQ(e.target.value)} autofocus aria-label="Search keys" />
    ${keys ? html`<div class="muted">Keys of the ${keys.runs_sampled} most recent runs.</div>` : null}
    <div class="cc">
      ${section('Metrics', 'metric', keys?.metrics)}
      ${section('Params', 'param', keys?.params)}
      ${section('Tags', 'tag', keys?.tags)}
    </div>
    <div class="modal-actions">
      <span class="muted">${picked.length} columns</span>
      <button onClick=${() => setPicked([])}>None</button>
      <button onClick=${onClose}>Cancel</button>
      <button class="primary" onClick=${() => onApply(picked)} data-action="apply-columns">Apply</button>
    </div>
  <//>`;
}
