import { defineFaultMatrix } from '../support/fault-matrix-suite.js';

// GitHub's row in two files (this one: errors and delays; the other: bodies that are not what
// they claim), so its rounds, the slowest of the matrix, run side by side.
defineFaultMatrix('github', ['429 retry-after', '500', '503', 'latency > timeout']);
