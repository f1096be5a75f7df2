import { defineFaultMatrix } from '../support/fault-matrix-suite.js';

// The rest of GitHub's row (see fault-matrix-github-errors.test.ts).
defineFaultMatrix('github', ['200 HTML', '502 HTML', 'truncated JSON']);
