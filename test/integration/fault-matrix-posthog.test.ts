import { defineFaultMatrix } from '../support/fault-matrix-suite.js';

defineFaultMatrix('posthog');
