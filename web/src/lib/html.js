import { h } from 'preact';
import htm from 'htm';

// Tagged templates instead of JSX: the sources run as they are in node's test runner and need no transform.
export const html = htm.bind(h);
