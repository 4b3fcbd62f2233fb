// The app shell: who is signed in, the navigation, and the page for the URL's #fragment.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useErrorBoundary, useState } from 'preact/hooks';
import { html } from './lib/html.js';
import { loadSession, loginUrl, logout } from './lib/api.js';
import { href, navigate, useRoute } from './lib/route.js';
import { ErrorBox } from './components/common.js';
import { ExperimentsPage } from './pages/experiments.js';
import { RunsPage } from './pages/runs.js';
import { RunPage } from './pages/run.js';
import { ChartsPage } from './pages/charts.js';
import { ComparePage } from './pages/compare.js';
import { ModelsPage, ModelPage } from './pages/registry.js';
import { ServingPage, DeploymentPage } from './pages/serving.js';
import { JobsPage, JobPage } from './pages/jobs.js';
import { DataPage, DatasetPage } from './pages/data.js';

const NAV = [
  ['experiments', 'Experiments'],
  ['models', 'Models'],
  ['data', 'Data'],
  ['serving', 'Serving'],
  ['jobs', 'Jobs & GPUs'],
];

function pageFor(route) {
  const [a, b, c] = route.parts;
  switch (a) {
    case undefined:
    case 'experiments':
      if (b && c === 'runs') return html`<${RunsPage} route=${route} />`;
      return html`<${ExperimentsPage} route=${route} />`;
    case 'runs': return html`<${RunPage} route=${route} runId=${b} />`;
    case 'charts': return html`<${ChartsPage} route=${route} />`;
    case 'compare': return html`<${ComparePage} route=${route} />`;
    case 'models': return b ? html`<${ModelPage} route=${route} name=${b} />` : html`<${ModelsPage} route=${route} />`;
    case 'serving': return b ? html`<${DeploymentPage} route=${route} name=${b} />` : html`<${ServingPage} route=${route} />`;
    case 'data': return b ? html`<${DatasetPage} route=${route} name=${b} />` : html`<${DataPage} route=${route} />`;
    case 'jobs': return b ? html`<${JobPage} route=${route} jobId=${b} />` : html`<${JobsPage} route=${route} />`;
    default: return html`<div class="page"><h1>Not found</h1><p>No page at ${route.path}. <a href="#/experiments">Experiments</a></p></div>`;
  }
}

// One page failing (a bug, odd data) shows its error instead of blanking the whole app; moving to
// another page clears it.
function PageBoundary({ route }) {
  const [error, reset] = useErrorBoundary();
  useEffect(() => { if (error) reset(); }, [route.path]);
  if (error) {
    return html`<div class="page"><${ErrorBox} error=${{ code: 'UI_ERROR', message: `This page failed: ${error.message}` }} />
      <button onClick=${reset}>Try again</button></div>`;
  }
  return pageFor(route);
}

function App() {
  const route = useRoute();
  useEffect(() => {  // "/" and "#/" are the experiments list: say so in the URL
    if (route.parts.length === 0) navigate(['experiments'], route.query, { replace: true });
  }, [route.path]);
  const [session, setSession] = useState(undefined);
  const [error, setError] = useState(null);
  useEffect(() => {
    loadSession().then((s) => {
      if (s === null) { location.assign(loginUrl()); return; }
      setSession(s);
    }, setError);
  }, []);
  if (error) return html`<div class="page"><${ErrorBox} error=${error} /></div>`;
  if (!session) return html`<p class="boot">Loading Tamga…</p>`;
  const section = route.parts[0] === 'runs' || route.parts[0] === 'charts' || route.parts[0] === 'compare' ? 'experiments' : (route.parts[0] || 'experiments');
  return html`<div class="app">
    <header class="top">
      <a class="brand" href="#/experiments"><img src="/static/favicon.svg" alt="" width="22" height="22" />Tamga</a>
      <nav>${NAV.map(([id, label]) => html`<a href=${href([id])} class=${section === id ? 'active' : ''}>${label}</a>`)}</nav>
      <span class="spacer"></span>
      ${session.auth
        ? html`<span class="user" data-testid="user">${session.username}${session.is_admin ? ' (admin)' : ''}</span>
          <button class="link" onClick=${logout}>Sign out</button>`
        : html`<span class="muted" title="The server runs with --auth off">no sign-in</span>`}
    </header>
    <main><${PageBoundary} route=${route} /></main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
